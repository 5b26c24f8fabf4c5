"""A real IMAP server for tests: Debian's Dovecot, started from a temporary config on loopback.

    with Dovecot() as imap:
        imap.deliver(raw_bytes)            # a mail lands in the user's Maildir INBOX (unseen)
        env = imap.env                     # IMAP_HOST / IMAP_PORT / IMAP_USER / IMAP_PASSWORD / IMAP_SSL=0
        imap.flags()                       # {file name: flags} of the INBOX, to check \\Seen

One passwd-file user, plaintext login allowed on 127.0.0.1 only (no TLS in tests), everything
in a temporary folder removed afterwards. As root (CI), the login and internal processes run as
Debian's ``dovenull``/``dovecot`` users and the Maildir belongs to ``dovecot``.
"""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.support.stack import IMAP_PASSWORD, IMAP_USER, free_port

USER, PASSWORD = IMAP_USER, IMAP_PASSWORD


def dovecot_binary() -> str:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("Debian's dovecot-imapd is not installed (make dovecot)")
    return binary


class Dovecot:
    def __init__(self, port: int | None = None) -> None:
        # Its own folder under /tmp (not pytest's, which is private to the test user): Dovecot's
        # unprivileged processes must reach the passwd file and the Maildir.
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.root.chmod(0o755)
        self.port = port or free_port()
        self.maildir = self.root / "mail"
        self.config = self.root / "dovecot.conf"
        self.binary = dovecot_binary()

    def __enter__(self) -> Dovecot:
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:  # Dovecot's login and internal processes refuse to run as root
            login, internal = "dovenull", "dovecot"
            uid, gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
            for path in (self.maildir, *self.maildir.iterdir()):
                os.chown(path, uid, gid)
        else:
            login = internal = getpass.getuser()
            uid, gid = os.getuid(), os.getgid()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{self.root}::\n")
        self.config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{self.maildir}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {self.root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        )
        # -F: in the foreground, a child of the test, stopped with it.
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            self._wait()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                client = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
                client.login(USER, PASSWORD)
                client.logout()
                return
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    log = self.root / "dovecot.log"
                    raise RuntimeError(f"dovecot did not start: {log.read_text() if log.exists() else ''}") from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def env(self) -> dict[str, str]:
        return {
            "IMAP_HOST": "127.0.0.1",
            "IMAP_PORT": str(self.port),
            "IMAP_USER": USER,
            "IMAP_PASSWORD": PASSWORD,
            "IMAP_SSL": "0",
            "EMAIL_ADDRESS": USER,
        }

    def deliver(self, raw: bytes) -> None:
        """A new, unseen mail in the INBOX (Maildir's new/, as a delivery agent leaves it)."""
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.test"
        (self.maildir / "tmp" / name).write_bytes(raw)
        os.rename(self.maildir / "tmp" / name, self.maildir / "new" / name)

    def flags(self) -> list[str]:
        """The flags of every INBOX mail, read over IMAP."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(FLAGS)") if self.count(client) else ("OK", [])
        client.logout()
        return [part.decode() for part in data if isinstance(part, bytes)]

    @staticmethod
    def count(client: imaplib.IMAP4) -> int:
        _, data = client.status("INBOX", "(MESSAGES)")
        return int(data[0].split()[-1].rstrip(b")"))
