from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Application, ApplicationItem, Contract, NaccsUserId, ProcessingMethod, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "contract", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "contract")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("NSS", {"fields": ("contract", "full_name", "department", "phone")}),
    )


@admin.register(ProcessingMethod)
class ProcessingMethodAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order")


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("user_code", "company_name", "office_name")
    search_fields = ("user_code", "company_name", "office_name")
    filter_horizontal = ("processing_methods",)


@admin.register(NaccsUserId)
class NaccsUserIdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "processing_method", "is_customs_broker", "start_date", "revoked_at")
    list_select_related = ("contract", "processing_method")
    search_fields = ("contract__user_code", "identifier")


class ApplicationItemInline(admin.TabularInline):
    model = ApplicationItem
    extra = 0
    can_delete = False
    readonly_fields = ("processing_method", "desired_identifier", "broker_name")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read-only here: state changes go through the services (the staff workplace under /staff/)."""

    list_display = ("reception_number", "contract", "kind", "status", "submitted_at", "desired_start_date")
    list_filter = ("status", "kind")
    list_select_related = ("contract",)
    search_fields = ("reception_number", "contract__user_code", "contract__company_name")
    inlines = [ApplicationItemInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
