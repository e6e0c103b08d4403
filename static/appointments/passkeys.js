// Once django-otp-webauthn's script has made a passkey (it says so with an event), the page goes on to where the
// button says: the recovery codes after a first factor, the list of passkeys after another one.
document.addEventListener("otp_webauthn.register_complete", () => {
  const button = document.getElementById("passkey-register-button");
  if (button && button.dataset.then) {
    window.location.assign(button.dataset.then);
  }
});
