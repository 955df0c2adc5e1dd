"""A small HTML reader (stdlib html.parser) for the pages the Django test client renders: `Page(response)` reads
one screen the way a customer (or a screen reader) meets it."""

from devtools.html import Node, parse_html

__all__ = ["Node", "Page", "screen"]


class Page:
    """One rendered screen, read the way a customer (or a screen reader) meets it."""

    def __init__(self, response):
        self.response = response
        self.html = response.content.decode()
        self.root = parse_html(self.html)

    @property
    def screen(self) -> str:
        mains = self.root.find_all("main")
        return mains[0].attrs.get("data-screen", "") if mains else ""

    @property
    def text(self) -> str:
        return self.root.text

    def buttons(self) -> list[str]:
        return [button.text for button in self.root.find_all("button")]

    def button(self, label: str) -> Node:
        matches = [button for button in self.root.find_all("button") if button.text == label]
        assert len(matches) == 1, f"expected one button {label!r}, found {self.buttons()}"
        return matches[0]

    @property
    def main(self) -> Node:
        mains = self.root.find_all("main")
        assert len(mains) == 1, f"expected one <main>, found {len(mains)}"
        return mains[0]

    def links(self) -> list[str]:
        """The text of every link in <main> (the header's navigation is not the screen's own)."""
        return [link.text for link in self.main.find_all("a")]

    def link(self, label: str) -> Node:
        """The one link of <main> reading `label`."""
        matches = [link for link in self.main.find_all("a") if link.text == label]
        assert len(matches) == 1, f"expected one link {label!r}, found {self.links()}"
        return matches[0]

    def href_of(self, label: str) -> str:
        return self.link(label).attrs.get("href", "")

    def form_of(self, label: str) -> Node:
        """The <form> a button submits."""
        return next(node for node in self.button(label).ancestors() if node.tag == "form")

    def label(self, text: str) -> Node:
        """The <label> whose visible text is `text` (crispy's required-field asterisk left aside)."""
        matches = [label for label in self.root.find_all("label") if label.text.rstrip("*").strip() == text]
        assert len(matches) == 1, (
            f"expected one label {text!r}, found {[x.text for x in self.root.find_all('label')]}"
        )
        return matches[0]

    def control_labelled(self, text: str) -> Node:
        """The form control tied to the label `text` by for/id."""
        target = self.label(text).attrs.get("for")
        assert target, f"label {text!r} has no for attribute"
        control = self.root.by_id(target)
        assert control is not None, f"label {text!r} points at #{target}, which is not on the page"
        assert control.tag in {"input", "select", "textarea"}, control.tag
        return control

    def value_of(self, name: str) -> str:
        """What the field `name` shows: an input's value or a select's selected option value."""
        controls = self.root.find_all(name=name)
        assert controls, f"no control named {name!r}"
        control = controls[0]
        if control.tag == "select":
            selected = [option for option in control.find_all("option") if "selected" in option.attrs]
            return selected[0].attrs.get("value", "") if selected else ""
        if control.tag == "textarea":
            return control.text
        return control.attrs.get("value", "")

    def field_errors(self, name: str) -> str:
        """The messages shown next to field `name` (crispy's invalid-feedback inside the field's wrapper)."""
        wrapper = self.root.by_id(f"div_id_{name}")
        assert wrapper is not None, f"no wrapper for field {name!r}"
        return " ".join(node.text for node in wrapper.iter() if "invalid-feedback" in node.classes)

    def page_errors(self) -> str:
        """Messages at the top of the page: the form's non-field errors, the flash messages."""
        boxes = [self.root.by_id("form-errors")] + self.root.find_all(role="status")
        return " ".join(box.text for box in boxes if box is not None)

    def item_rows(self) -> list[list[str]]:
        table = self.root.by_id("application-items")
        assert table is not None, "no 申込情報 table"
        return [
            [cell.text for cell in row.find_all("td")]
            for row in table.find_all("tr")
            if "data-item" in row.attrs
        ]


def screen(response) -> str:
    return Page(response).screen
