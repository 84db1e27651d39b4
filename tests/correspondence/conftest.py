import pytest
from django.core import mail


@pytest.fixture
def send_mail(settings):
    """Send every queued message now (locmem backend); returns the messages sent by this call."""
    from correspondence.mailer import mail_pass

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def send():
        before = len(mail.outbox)
        mail_pass()
        return mail.outbox[before:]

    return send


def act(client, request_id, path, body=None):
    return client.post(f"/v1/requests/{request_id}/{path}", body or {})


def messages_of(client, request_id):
    response = client.get(f"/v1/requests/{request_id}/messages")
    assert response.status_code == 200, response.content
    return response.json()["data"]["messages"]
