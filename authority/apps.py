from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "authority"
    verbose_name = "Authority to act"
    default_auto_field = "django.db.models.BigAutoField"
