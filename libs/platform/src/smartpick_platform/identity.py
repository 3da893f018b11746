"""Who a process is to the other services: its certificate and key, and the CA it trusts.

Every gRPC connection is mutual TLS: a server asks for the client's certificate and refuses a handshake
without one the CA signed, and a client checks the server's certificate against the service it means to
reach (the service's name is a DNS name of its certificate, whatever address the channel dials). A
certificate's common name is its service's name, the identity servers hold the manifest's `calls` to.

The files come from the platform: cert-manager's secret in Kubernetes (deploy/k8s/base/identity.yaml), the
local CA (local_ca.py) on one machine. A process without them does not start."""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class TlsSettings(BaseSettings):
    """SMARTPICK_TLS_CA_FILE, SMARTPICK_TLS_CERT_FILE, SMARTPICK_TLS_KEY_FILE: the same names in every process."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="SMARTPICK_TLS_")

    ca_file: Path = Field(description="the CA that signs every service's certificate (PEM)")
    cert_file: Path = Field(description="this service's certificate (PEM), its common name the service's name")
    key_file: Path = Field(description="this service's private key (PEM, ECDSA P-256)")


@dataclass(frozen=True)
class ServiceIdentity:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def load(cls, settings: TlsSettings | None = None) -> "ServiceIdentity":
        """This process's identity from SMARTPICK_TLS_*; a RuntimeError naming what is missing otherwise."""
        if settings is None:
            try:
                settings = TlsSettings()
            except ValidationError as error:
                missing = ", ".join(f"SMARTPICK_TLS_{str(e['loc'][0]).upper()}" for e in error.errors())
                raise RuntimeError(
                    f"no service identity: set {missing} (this service's certificate, its key and the CA; "
                    "make run and the tests make them with smartpick_platform.local_ca)"
                ) from None
        return cls.from_files(settings.ca_file, settings.cert_file, settings.key_file)

    @classmethod
    def from_files(cls, ca_file: Path, cert_file: Path, key_file: Path) -> "ServiceIdentity":
        identity = cls(ca_file.read_bytes(), cert_file.read_bytes(), key_file.read_bytes())
        if not isinstance(identity.signing_key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_file}: the service key must be an ECDSA P-256 key (it signs caller contexts)")
        return identity

    @cached_property
    def name(self) -> str:
        """The service this certificate names (its common name)."""
        return common_name(self.cert_pem)

    @cached_property
    def signing_key(self):
        return load_pem_private_key(self.key_pem, password=None)

    def server_credentials(self) -> grpc.ServerCredentials:
        """TLS that requires a client certificate signed by the CA."""
        return grpc.ssl_server_credentials(
            [(self.key_pem, self.cert_pem)], root_certificates=self.ca_pem, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(self.ca_pem, self.key_pem, self.cert_pem)


def common_name(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise ValueError("the certificate names no service (no common name)")
    return str(names[0].value)
