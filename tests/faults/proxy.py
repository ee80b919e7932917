"""Real nginx running the project's own deploy/nginx.conf in front of a test's gunicorn (issue 18 item 5).

The file is used as it is, but for the lines a loopback test must change, each replaced exactly once (a
config edit that moves one of them fails here loudly instead of testing something else): the upstream port,
the listening ports, the certificate paths (a self-signed certificate made here) and, given, the body
timeout. A small main nginx.conf around it puts the pid, logs and temporary files in the test's folder."""

import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess
import urllib.request
from pathlib import Path

from harness import ROOT, Process, free_port, wait_until

CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian's package (scripts/system-deps.sh installs it)


def render(config: str, replacements: dict[str, str]) -> str:
    """`config` with each key replaced by its value; every key must occur exactly once."""
    for old, new in replacements.items():
        assert config.count(old) == 1, f"deploy/nginx.conf: expected exactly one {old!r} for the test to replace"
        config = config.replace(old, new)
    return config


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A one-day certificate for 127.0.0.1 and its key (PEM files in `directory`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert, key_file = directory / "fullchain.pem", directory / "privkey.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


class Nginx(Process):
    """nginx with deploy/nginx.conf on free loopback ports (HTTPS `port`, plain `http_port`) in front of
    gunicorn on `upstream_port`; waits until /healthz answers through it."""

    def __init__(self, directory: Path, upstream_port: int, *, body_timeout: str | None = None):
        if not Path(NGINX).exists():
            raise RuntimeError("nginx is not installed (scripts/system-deps.sh installs Debian's package)")
        directory.mkdir(parents=True)
        cert, key = self_signed(directory)
        self.port, self.http_port = free_port(), free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        self.context = ssl.create_default_context(cafile=str(cert))
        replacements = {
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.port} ssl http2;",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "/etc/ssl/portal/fullchain.pem": str(cert),
            "/etc/ssl/portal/privkey.pem": str(key),
        }
        if body_timeout:
            replacements["client_body_timeout       20s;"] = f"client_body_timeout       {body_timeout};"
        (directory / "portal.conf").write_text(render(CONFIG.read_text(), replacements))
        temp = "\n".join(f"    {kind}_temp_path {directory / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # as root the workers would run as nobody, who cannot enter pytest's private temporary folders
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (directory / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {directory / 'nginx.pid'};\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {directory / 'access.log'};\n{temp}\n"
            f"    include {directory / 'portal.conf'};\n}}\n")
        command = [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", "stderr"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t refused deploy/nginx.conf: {checked.stderr}"
        super().__init__([*command, "-g", "daemon off;"], os.environ.copy(), directory / "nginx.log")
        wait_until(self._up, timeout=30, interval=0.1, what=f"nginx on {self.base}")

    def _up(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"nginx exited: {self.output()[-3000:]}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2, context=self.context) as response:
                return response.status == 200
        except OSError:
            return False
