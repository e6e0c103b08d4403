"""Start the test identity provider: migrate its SQLite file, register the service as a confidential client (PKCE
required, no consent screen) and a user with groups, then serve on the given port until killed.

    IDP_BASE_URL=http://127.0.0.1:PORT IDP_DATABASE=/tmp/x.sqlite3 IDP_PRIVATE_KEY="$(cat key.pem)" \\
    IDP_CLIENT_ID=... IDP_CLIENT_SECRET=... IDP_REDIRECT_URI=... IDP_USERS='[["ann", "password", ["g1"]]]' \\
    python -m tests.idp.serve PORT
"""

import json
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.idp.settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for username, password, groups in json.loads(os.environ["IDP_USERS"]):
        user = User.objects.create_user(username=username, password=password, email=f"{username}@example.com")
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    Application.objects.create(
        name="Appointments",
        client_id=os.environ["IDP_CLIENT_ID"],
        client_secret=os.environ["IDP_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["IDP_REDIRECT_URI"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    server = make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), _Threaded, _Quiet)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
