"""`manage.py import_contracts FILE.csv [--dry-run]`: the contract import of SPEC §11 (applications/contract_import.py;
the file format is in the README, "Importing contracts").

Prints the encoding the file was read with and what was (or, with --dry-run, would be) created, updated and left
unchanged; every error goes to stderr with its row and column, and the command then exits with status 1 having
written nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from applications.contract_import import contracts_import


class Command(BaseCommand):
    help = (
        "Import contracts, their existing 利用者IDs and customer accounts from a CSV file (see the README)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8 with or without BOM, or Shift_JIS/CP932)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and show what would change; write nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from error
        report = contracts_import(file=data, dry_run=dry_run, actor=None)
        for error in report.errors:
            self.stderr.write(str(error))
        *lines, conclusion = report.summary_lines()
        for line in lines:
            self.stdout.write(line)
        if report.errors:
            raise CommandError(conclusion)
        self.stdout.write(self.style.SUCCESS(conclusion))
