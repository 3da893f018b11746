"""A certificate authority of the machine's own, for `make run`, the tests and the benchmarks.

In production the platform issues the services' certificates (cert-manager, deploy/k8s/base/identity.yaml);
on one machine this module plays that part: a CA made once per state folder and, signed by it, one
certificate per service of the manifest. A certificate names its service in its common name (the identity a
server checks against the manifest's `calls`) and in its DNS names (what a client checks the server
against), and carries the service's ECDSA P-256 key, which also signs the caller contexts it sends
(caller_context.py).

    python -m smartpick_platform.local_ca DIR     # makes DIR/ca.pem and DIR/<service>.pem, .key once"""

import argparse
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smartpick_platform import services
from smartpick_platform.identity import ServiceIdentity

CA_FILE = "ca.pem"
VALIDITY = datetime.timedelta(days=30)  # a local stack is remade long before; production rotates by cert-manager


def certificate_file(directory: Path, service: str) -> Path:
    return directory / f"{service}.pem"


def key_file(directory: Path, service: str) -> Path:
    return directory / f"{service}.key"


def tls_environment(directory: Path, service: str) -> dict[str, str]:
    """The settings (identity.TlsSettings) of a process of `service` whose certificates are in `directory`."""
    return {
        "SMARTPICK_TLS_CA_FILE": str(directory / CA_FILE),
        "SMARTPICK_TLS_CERT_FILE": str(certificate_file(directory, service)),
        "SMARTPICK_TLS_KEY_FILE": str(key_file(directory, service)),
    }


def identity(directory: Path, service: str) -> ServiceIdentity:
    """The identity of `service` (tests and benchmarks that call a service as the gateway does)."""
    return ServiceIdentity.from_files(
        directory / CA_FILE, certificate_file(directory, service), key_file(directory, service)
    )


def ensure(directory: Path, names: tuple[str, ...] | None = None) -> Path:
    """The CA and a certificate for each of `names` (every service of the manifest by default) in
    `directory`, made where missing or within a day of expiring. Returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    names = names or tuple(services.manifest().services)
    ca_key, ca_cert = _load_or_make_ca(directory)
    for name in names:
        if not _valid(certificate_file(directory, name), ca_cert):
            _issue(directory, name, ca_key, ca_cert)
    return directory


def _load_or_make_ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    cert_path, key_path = directory / CA_FILE, directory / "ca.key"
    if key_path.exists() and _valid(cert_path, None):
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Smart Pick local CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # Every certificate of an older CA is void now.
    for stale in directory.glob("*.pem"):
        if stale.name != CA_FILE:
            stale.unlink()
    return key, cert


def _issue(directory: Path, service: str, ca_key, ca_cert: x509.Certificate) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(service),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key_file(directory, service), key)
    certificate_file(directory, service).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _valid(path: Path, issuer: x509.Certificate | None) -> bool:
    """The certificate at `path` exists, has a day left, and (given an issuer) was signed by it."""
    if not path.exists():
        return False
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    if cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) < datetime.timedelta(days=1):
        return False
    if issuer is None:
        return True
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _write_key(path: Path, key) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--service", action="append", help="only these services (default: every one)")
    arguments = parser.parse_args()
    print(ensure(arguments.directory, tuple(arguments.service) if arguments.service else None))


if __name__ == "__main__":
    main()
