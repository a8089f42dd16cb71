"""Errors raised by command handlers, with CloudStack's error codes."""

# kind -> (HTTP/errorcode on the synchronous path, cserrorcode)
KINDS = {
    "InvalidParameterValue": (431, 4350),
    "PermissionDenied": (531, 4365),
    "ResourceAllocation": (535, 4370),
    "InsufficientCapacity": (533, 4325),
    "ResourceUnavailable": (534, 4380),
    "CloudRuntime": (530, 4250),
}
USER_ERROR_MESSAGE = "Internal error executing command, please contact your system administrator"
AUTH_FAILED = "unable to verify user credentials and/or request signature"
# DomainChecker.validateCallerHasAccessToEntityOwner
OPERATE_DENIED = "Caller does not have permission to operate with provided resource."


class ApiError(Exception):
    """A CloudStack error: `kind` is the Java exception it stands for, or ServerApi with its own code."""

    def __init__(self, kind, text, code=None):
        super().__init__(text)
        self.kind = kind
        self.text = text
        if kind == "ServerApi":
            self.code, self.cserrorcode = code, 9999
        else:
            self.code, self.cserrorcode = KINDS[kind]

    def job_code(self):
        """The errorcode an async job stores for this error (spec 1.5)."""
        if self.kind == "ServerApi":
            return self.code
        return 431 if self.kind == "InvalidParameterValue" else 530


def invalid(text):
    """InvalidParameterValueException: 431."""
    return ApiError("InvalidParameterValue", text)


def denied(text):
    """PermissionDeniedException: 531 (530 inside a job)."""
    return ApiError("PermissionDenied", text)


def runtime(text):
    """CloudRuntimeException: 530."""
    return ApiError("CloudRuntime", text)


def server(code, text):
    """ServerApiException raised by the framework (cserrorcode 9999)."""
    return ApiError("ServerApi", text, code)
