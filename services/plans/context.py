"""PlanContext: what a step gets to read and change a cluster, and the only write path to it.

Reads (`read`, `aws_read`) are always allowed. Writes (`write`, `aws_write`) first ask the write guard
(services/plans/guard.py) and record the action for the operator journal.
"""

from __future__ import annotations

import asyncio
import getpass
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from services.cloudwatch_extras import CloudWatchExtras, aws_cloudwatch_extras
from services.inventory.model import Cluster, Host
from services.plans.guard import require_guarded
from services.plans.step import Action, StepFailed, aws_action, ssh_action
from services.settings import Settings
from services.ssh.runner import HostRunner

if TYPE_CHECKING:
    from services.plans.journal import Journal

# AWS operations a check/verify may call: nothing that changes anything.
_READ_VERBS = ("Describe", "List", "Get", "Filter", "Test", "Lookup")
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "Throttled",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
}
# A missing permission. Unknown or expired credentials (InvalidClientTokenId, ExpiredToken...) are not:
# no IAM policy fixes them; services.aws_clients words those ("fix the credentials").
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
}
# An error body botocore could not parse (moto answers the JSON logs API in XML): "<Code>X</Code>".
_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


class AwsCallTimedOut(StepFailed):
    """An AWS call of a step had no answer within the plan's AWS deadline (settings' aws_call_deadline_s)."""


class CommandLike(Protocol):
    """What a step reads of a command's result. Read-only, so a frozen CommandResult (and any test double
    with plain attributes) satisfies it."""

    @property
    def exit_status(self) -> int: ...
    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def command(self) -> str: ...


def snake_case(operation: str) -> str:
    """Return the boto3 method name of an API operation: "PutMetricFilter" -> "put_metric_filter"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def parse_unparsed_error(exc: BaseException) -> Any:
    """Return the error's `response` with Code/Message taken from an XML body botocore left unparsed
    (the code is then the HTTP status, e.g. "403"); the exception is updated too, so any later wording sees
    the real code. Returns the response unchanged (or None) otherwise."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return response
    error = response.get("Error", {})
    code, detail = str(error.get("Code", "")), str(error.get("Message", ""))
    raw_code = _XML_CODE.search(detail)
    if raw_code is None or not (code.isdigit() or not code):
        return response
    raw_message = _XML_MESSAGE.search(detail)
    error = {
        **error,
        "Code": raw_code.group(1).strip(),
        "Message": raw_message.group(1).strip() if raw_message else "",
    }
    response = {**response, "Error": error}
    exc.response = response  # type: ignore[attr-defined]
    return response


def describe_aws_error(exc: BaseException, service: str, operation: str, profile: str | None) -> str:
    """Return a message for a failed AWS call saying what happened and what to do next."""
    code = ""
    response = parse_unparsed_error(exc)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        detail = str(response.get("Error", {}).get("Message", ""))
        retries = response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    else:
        detail, retries = str(exc), 0
    who = f"profile {profile}" if profile else "the default AWS credentials"
    if code in _THROTTLED:
        return (
            f"AWS throttled {service}:{operation} ({code}), retried {retries} times; wait a minute and re-run: "
            "steps already done are skipped and nothing is created twice"
        )
    if code in _DENIED:
        return (
            f"AWS refused {service}:{operation} ({code}) for {who}: allow {service}:{operation} in the "
            f"IAM policy of that user/role, then re-run ({detail})"
        )
    from services import aws_clients  # one wording for every other AWS error in the product

    return aws_clients.describe_aws_error(exc, service)


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no USER/LOGNAME and no passwd entry (containers)
        return "unknown"


async def _default_call(client: Any, method: str, **kwargs: Any) -> Any:
    from services import aws_clients

    # In a daemon thread that the deadline abandons (and botocore then stops retrying): a stalled endpoint
    # must not hold the step, nor the process at exit, for botocore's 5 x 30 s.
    return await aws_clients.call_abandonable(client, method, **kwargs)


@dataclass
class PlanContext:
    """Everything a step needs. `facts` is scratch space: check() stores what it read, keyed by step id."""

    cluster: Cluster
    runner: HostRunner  # SshPool, or a fake in tests
    aws_client_factory: Callable[[str], Any] | None = None  # service -> boto3 client
    aws_call: Callable[..., Awaitable[Any]] | None = None  # (client, method_name, **kw) in a thread
    journal: Journal | None = None
    operator: str = field(default_factory=lambda: _whoami())
    params: dict[str, Any] = field(default_factory=dict)
    inventory_source: str = ""
    command_timeout: float | None = None
    aws_deadline_s: float = Settings.aws_call_deadline_s  # one AWS call, retries included (settings)
    status_deadline_s: float | None = None  # each part of a status read inside a plan (the failover's)
    # what the cluster's CloudWatch answers beyond plain AWS (AWS itself, or the lab that plays it): the
    # composition root sets it (tui/backends.py); steps read its labels and capabilities, never the endpoint
    extras: CloudWatchExtras = field(default_factory=aws_cloudwatch_extras)
    facts: dict[str, Any] = field(default_factory=dict)
    performed: list[Action] = field(default_factory=list)  # actions of the step being applied
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- hosts ---------------------------------------------------------------------------------------
    async def read(
        self, host: Host, argv: Sequence[str], *, input: str | None = None, timeout: float | None = None
    ) -> CommandLike:
        """Run a reading command on `host`; return its result (any exit status). SSH errors propagate."""
        return await self.runner.run(
            host, list(argv), timeout=timeout or self.command_timeout, input=input, check=False
        )

    async def write(
        self,
        host: Host,
        argv: Sequence[str],
        *,
        input: str | None = None,
        ok_exit: Sequence[int] = (0,),
        timeout: float | None = None,
    ) -> CommandLike:
        """Run a changing command on `host` inside the guarded plan run; return its result.

        Raises WriteRefused outside a guarded run or on a read-only cluster, StepFailed when the exit
        status is not in `ok_exit` (message: command, host, status, first lines of stderr).
        """
        action = ssh_action(host.name, argv, input=input)
        require_guarded(self.cluster, f"run `{action.command}` on {host.name}")
        self.performed.append(action)
        result = await self.runner.run(
            host, list(action.argv), timeout=timeout or self.command_timeout, input=input, check=False
        )
        if result.exit_status not in ok_exit:
            out = (result.stderr.strip() or result.stdout.strip()).splitlines()
            tail = " | ".join(out[-3:])
            if (
                result.exit_status == 255 and not out
            ):  # services.ssh.pool: the channel closed without a status
                raise StepFailed(
                    f"{host.name}: `{action.command}` ended without an exit status (status 255, no output): "
                    f"the connection was lost or the command was killed; check that {host.name} is up (ssh "
                    "to it), then re-run: the step checks again what is already done"
                )
            raise StepFailed(
                f"{host.name}: `{action.command}` exited with status {result.exit_status}"
                + (f": {tail}" if tail else "")
            )
        return result

    # --- AWS -----------------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """Return the (cached) boto3 client for `service` of this cluster's account/region."""
        if service not in self._clients:
            if self.aws_client_factory is not None:
                self._clients[service] = self.aws_client_factory(service)
            else:
                from services import aws_clients  # written by another module; imported when first needed

                self._clients[service] = aws_clients.make_client(service, self.cluster.aws)
        return self._clients[service]

    async def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> Any:
        method = snake_case(operation)
        try:
            # Building a client loads its service model (0.1-0.3 s): in a worker, never on the event loop,
            # and not on the endpoint's deadline. (Inside the try: a missing profile is a botocore error
            # with a message of its own.)
            client = self._clients.get(service) or await asyncio.to_thread(self.client, service)
            async with asyncio.timeout(self.aws_deadline_s) as budget:
                if self.aws_call is not None:
                    return await self.aws_call(client, method, **params)
                return await _default_call(client, method, **params)
        except StepFailed:
            raise
        except TimeoutError:
            if not budget.expired():
                raise
            endpoint = self.cluster.aws.endpoint_url or f"AWS ({self.cluster.aws.region})"
            raise AwsCallTimedOut(
                f"{service}:{operation} timed out: {endpoint} did not answer within {self.aws_deadline_s:g} s "
                "(aws_call_deadline_s in settings). The call may still have reached AWS; check the network, "
                "proxy and VPC endpoints from this machine, then re-run: the step checks again first and "
                "nothing is created twice"
            ) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("botocore", "boto3")):
                raise StepFailed(
                    describe_aws_error(exc, service, operation, self.cluster.aws.profile)
                ) from exc
            raise

    async def aws_read(self, service: str, operation: str, **params: Any) -> Any:
        """Make a reading AWS call (Describe*/List*/Get*/Filter*/Test*); return the response dict.

        Raises ValueError for a changing operation (use aws_write), StepFailed for AWS errors.
        """
        if not operation.startswith(_READ_VERBS):
            raise ValueError(f"{operation} changes AWS: use aws_write inside a plan run")
        return await self._invoke(service, operation, params)

    async def aws_write(self, service: str, operation: str, **params: Any) -> Any:
        """Make a changing AWS call inside the guarded plan run; return the response dict.

        Raises WriteRefused outside a guarded run or on a read-only cluster, StepFailed for AWS errors
        (throttling and AccessDenied with what to do next).
        """
        action = aws_action(service, operation, params)
        require_guarded(self.cluster, f"call {service}:{operation}")
        self.performed.append(action)
        return await self._invoke(service, operation, params)
