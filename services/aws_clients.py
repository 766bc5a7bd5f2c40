"""boto3 clients for one cluster's AWS settings, and error messages that say what to do next.

The endpoint is configuration only: the same code talks to real AWS (endpoint_url None) and to the lab's
moto server on 127.0.0.1. boto3 is imported lazily so `import services.aws_clients` stays cheap.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from services.inventory.model import AwsSettings

# Attempts per call, first one included: 1 call + 4 retries in botocore's "standard" mode (exponential
# backoff with jitter). botocore's own `max_attempts` key counts retries only, hence total_max_attempts.
MAX_ATTEMPTS = 5
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30
# Status reads (make_read_client): a refresh asks again in a few seconds, so one slow answer is not worth
# 5 x 30 s; the status deadline (status_deadline_s) bounds the whole read anyway. Writes keep the above.
STATUS_READ_ATTEMPTS = 2
STATUS_CONNECT_TIMEOUT_S = 3
STATUS_READ_TIMEOUT_S = 5
LAB_CREDENTIALS = ("lab-access-key", "lab-secret-key")  # moto accepts any; never sent to real AWS

_clients: dict[tuple[str, str, str | None, str | None, bool], Any] = {}
_lock = threading.Lock()  # boto3 sessions are not thread-safe; the clients they build are
# The worker thread of a call_abandonable call knows (here) whether its caller gave up on it: botocore's
# retry loop then makes no further attempt (see _stop_when_abandoned).
_abandoned = threading.local()


class CallAbandoned(Exception):
    """Raised inside an abandoned call's worker thread to stop botocore retrying it (nobody awaits it)."""


def make_client(service: str, aws: AwsSettings) -> Any:
    """Return a cached boto3 client for `service` ("ec2", "logs", ...) configured from `aws`.

    Real AWS: the standard credential chain (aws.profile when set), aws.region. The lab (aws.endpoint_url
    set): that endpoint, no host prefix (so logs live tail reaches 127.0.0.1), and dummy credentials unless
    a profile is given, so the credential chain never probes the network. Raises botocore's
    ProfileNotFound when aws.profile does not exist (describe_aws_error() explains it).
    """
    return _cached_client(service, aws, status_read=False)


def make_read_client(service: str, aws: AwsSettings) -> Any:
    """Return a cached boto3 client like make_client's, for status reads: short connect/read timeouts and
    2 attempts (STATUS_*), so an endpoint that accepts TCP and never answers costs seconds, not minutes.
    Never use it for writes (they keep standard retries)."""
    return _cached_client(service, aws, status_read=True)


def _cached_client(service: str, aws: AwsSettings, *, status_read: bool) -> Any:
    # Keyed by what shapes the client only (not route tables or log groups): each client loads its own
    # copy of the service model (EC2's is ~30 MB), so one per cluster made 20 lab clusters cost 700 MB.
    key = (service, aws.region, aws.profile, aws.endpoint_url, status_read)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _build_client(service, aws, status_read=status_read)
    return client


class LazyClient:
    """Class attribute `client = LazyClient("logs")`: the instance's boto3 client for the service, made from
    its `aws` settings on first use and kept in its `_client` (where a test may have put a fake one)."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if obj._client is None:
            obj._client = make_client(self.service, obj.aws)
        return obj._client


def _build_client(service: str, aws: AwsSettings, *, status_read: bool = False) -> Any:
    import boto3
    import botocore.session
    from botocore.config import Config

    attempts, connect_s, read_s = (
        (STATUS_READ_ATTEMPTS, STATUS_CONNECT_TIMEOUT_S, STATUS_READ_TIMEOUT_S)
        if status_read
        else (MAX_ATTEMPTS, CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    )
    config = Config(
        region_name=aws.region,
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=connect_s,
        read_timeout=read_s,
        inject_host_prefix=not aws.is_lab,
        # A jump host's HTTP(S)_PROXY is for AWS; the lab's moto on 127.0.0.1 is never behind it (without
        # this, a proxy and no NO_PROXY sent every lab call to the proxy and the lab looked down).
        # botocore-stubs say Mapping[str, str], but botocore reads a None value as "no proxy for this scheme".
        proxies=_NO_PROXY if _is_loopback(aws.endpoint_url) else None,  # type: ignore[arg-type]
    )
    credentials: dict[str, str] = {}
    botocore_session = None
    if aws.is_lab and aws.profile is None:
        credentials = {"aws_access_key_id": LAB_CREDENTIALS[0], "aws_secret_access_key": LAB_CREDENTIALS[1]}
        # The DBA's AWS_PROFILE names a real-AWS profile (or one missing here): the lab uses none.
        botocore_session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session = boto3.session.Session(
        profile_name=aws.profile, region_name=aws.region, botocore_session=botocore_session
    )
    # boto3-stubs overload client() on literal service names only; ours come from plans and inventories at
    # run time, and boto3 itself rejects an unknown one (UnknownServiceError).
    client = session.client(service, endpoint_url=aws.endpoint_url, config=config, **credentials)  # type: ignore[call-overload]
    events = client.meta.events
    events.register_first("before-send", _stop_when_abandoned)
    events.register_first("needs-retry", _stop_when_abandoned)
    return client


def _stop_when_abandoned(**_: Any) -> None:
    """botocore hook (before each send and each retry decision): raise CallAbandoned when the caller of
    this thread's call_abandonable call gave up (its deadline passed), so an abandoned call, a write above
    all, is not sent again by botocore's retries after the caller reported it timed out."""
    flag = getattr(_abandoned, "event", None)
    if flag is not None and flag.is_set():
        raise CallAbandoned("abandoned by its caller (deadline passed); not retried")


# botocore treats {} as "use the environment's proxies"
_NO_PROXY: dict[str, None] = {"http": None, "https": None}


def _is_loopback(endpoint_url: str | None) -> bool:
    """Return True when `endpoint_url` names a host on this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress
    from urllib.parse import urlsplit

    if not endpoint_url:
        return False
    host = urlsplit(endpoint_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clear_client_cache() -> None:
    """Forget every cached client (tests; after credentials change)."""
    with _lock:
        _clients.clear()


async def call(client: Any, method: str, **kwargs: Any) -> Any:
    """Return `client.<method>(**kwargs)` run in a worker thread (boto3 blocks); raises what boto3 raises."""
    return await asyncio.to_thread(getattr(client, method), **kwargs)


async def call_abandonable(client: Any, method: str, **kwargs: Any) -> Any:
    """Return `client.<method>(**kwargs)` run in a daemon thread; raises what boto3 raises.

    For calls under a deadline: when the awaiting task is cancelled (the deadline passed), the call is
    abandoned, not waited for. asyncio.to_thread's executor threads are joined when asyncio.run() ends and
    at interpreter exit, so a stalled endpoint would hold `db2ops status` or a plan until boto3's own
    timeouts (5 attempts x 30 s); a daemon thread holds nothing. On a client of this module, an abandoned
    call makes no further attempt (no retry after the deadline), but the attempt in flight when it was
    abandoned may still reach AWS: a plan step that times out says so, and its re-run checks first.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    abandoned = threading.Event()

    def settle(outcome: Any, error: BaseException | None) -> None:
        if future.done():  # abandoned (cancelled) meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(outcome)

    def work() -> None:
        _abandoned.event = abandoned
        try:
            outcome, error = getattr(client, method)(**kwargs), None
        except BaseException as exc:  # handed to the awaiting task, which decides
            outcome, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, outcome, error)
        except RuntimeError:  # the event loop is closed: nobody waits any more
            pass

    threading.Thread(target=work, name=f"aws-{method}", daemon=True).start()
    try:
        return await future
    except asyncio.CancelledError:
        abandoned.set()
        raise


_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "Throttled",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
}
_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_IAM_PREFIX = {
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "ec2": "ec2",
    "sns": "sns",
    "sts": "sts",
    "iam": "iam",
}
_FIX_CREDENTIALS = (
    "set AWS_PROFILE (or aws.profile in the inventory) or run `aws configure` / `aws sso login`"
)


def describe_aws_error(exc: BaseException, service: str | None = None) -> str:
    """Return one sentence for the UI: what failed, why, and what to do next.

    `service` is the boto3 service name ("ec2") when known; it names the IAM action for AccessDenied.
    Handles botocore ClientError (AccessDenied, throttling, bad/expired credentials, not found),
    NoCredentialsError, ProfileNotFound, NoRegionError, endpoint connection errors and timeouts.
    """
    kind = type(exc).__name__
    if kind == "ClientError" or hasattr(exc, "response") and hasattr(exc, "operation_name"):
        return _describe_client_error(exc, service)
    if kind in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return f"no usable AWS credentials ({exc}); {_FIX_CREDENTIALS}"
    if kind == "ProfileNotFound":
        profile = getattr(exc, "kwargs", {}).get("profile", "?")
        return (
            f"AWS profile '{profile}' is not configured; fix aws.profile in the inventory or run "
            f"`aws configure --profile {profile}`"
        )
    if kind == "NoRegionError":
        return "no AWS region configured; set aws.region in the inventory"
    if kind in ("EndpointConnectionError", "ConnectionClosedError"):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return (
            f"cannot reach {url}; check the network, proxy and VPC endpoints from this machine "
            f"(for the lab: is `db2ops lab` still running?)"
        )
    if kind in ("ConnectTimeoutError", "ReadTimeoutError"):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return (
            f"{url} did not answer in time after retries; try again, or check the network from this machine"
        )
    return f"AWS call failed: {kind}: {exc}"


def _describe_client_error(exc: Any, service: str | None) -> str:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip()
    operation = str(getattr(exc, "operation_name", "") or "the call")
    retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    action = _iam_action(message, service, operation)
    if code in _ACCESS_DENIED:
        return (
            f"AWS denied {action} ({code}): the IAM identity in use is missing the permission {action}; "
            f"add it to its policy (scoped to the resource) or use a profile that has it"
        )
    if code in _THROTTLING:
        return (
            f"AWS throttled the call {action}; retried {retries} times ({code}). Wait a minute and try again, "
            f"or poll less often (refresh_interval_s in settings)"
        )
    if code in _EXPIRED:
        return f"the AWS credentials have expired ({code}); refresh them (`aws sso login`) and retry"
    if code in _BAD_CREDENTIALS:
        return f"AWS did not accept the credentials for {action} ({code}: {message}); {_FIX_CREDENTIALS}"
    if "NotFound" in code or code.startswith("NoSuch"):
        return f"{action} failed: {message or code}; check the ids and names in the inventory's aws settings"
    detail = f"{code}: {message}" if message else code
    suffix = f" after {retries} retries" if retries else ""
    return f"{action} failed{suffix} ({detail})"


def _iam_action(message: str, service: str | None, operation: str) -> str:
    """Return "ec2:ReplaceRoute": from AWS's own message when it names it, else service + operation."""
    named = re.search(r"perform:? ([a-z0-9-]+:[A-Za-z0-9]+)", message)
    if named:
        return named.group(1)
    if service:
        return f"{_IAM_PREFIX.get(service, service)}:{operation}"
    return operation
