"""A real OpenID Connect provider for the single sign-on tests (issue 25.4): django-oauth-toolkit's OIDC provider
in a small Django project of its own, started as a subprocess on a free port (serve.py), with its own SQLite file.
It signs ID tokens with an RSA key the test hands it, requires PKCE, and puts the user's groups in the ID token and
the userinfo answer (validator.py)."""
