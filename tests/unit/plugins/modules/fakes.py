"""In-memory stand-ins for CloudStackApi and CloudStackModule, for unit tests of module logic."""

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, JobTimeout

READ_PREFIXES = ("list", "query")


class FakeApi:
    """Answers list commands from its rows, applies and records every write, and fails the commands told to.

    ``rows`` maps a list command to the rows it returns (filtered by ``id`` and ``name`` when given);
    ``fail`` maps a command to the ApiError text it raises (431); ``hang`` names async commands whose
    job never ends.
    """

    def __init__(self, fail=None, hang=(), **rows):
        self.rows = dict((command, [dict(row) for row in listed]) for command, listed in rows.items())
        self.fail = fail or {}
        self.hang = hang
        self.writes = []
        self.reads = []
        self.api_calls = 0

    def _check(self, command, action):
        self.api_calls += 1
        if command in self.fail:
            raise ApiError(command, self.fail[command], errorcode=431, cserrorcode=4350, action=action)

    def list(self, command, key, action=None, **params):
        """Canned rows of ``command`` that match the id/name filters."""
        self.reads.append((command, params))
        self._check(command, action)
        rows = self.rows.get(command, [])
        for field in ("id", "name"):
            if params.get(field) is not None:
                rows = [row for row in rows if row.get(field) == params[field]]
        return [dict(row) for row in rows]

    def call(self, command, action=None, **params):
        """Record a sync write; the answer is the object with that id (if any) updated with the parameters.

        listCapabilities, the one sync read, answers ``capability`` (a [4.23] server unless rows give another).
        """
        if command == "listCapabilities":
            self.reads.append((command, params))
            self._check(command, action)
            return {"capability": dict((self.rows.get(command) or [{"cloudstackversion": "4.23.0.0"}])[0])}
        if command.startswith(READ_PREFIXES):
            raise AssertionError("reads go through list() in these tests: %s" % command)
        self.writes.append((command, params))
        self._check(command, action)
        answer = dict(params)
        for row in self._rows_with_id(params.get("id")):
            row.update(params)
            answer = dict(row)
        return {"serviceoffering": answer, "template": answer, "virtualmachine": answer}

    def _rows_with_id(self, object_id):
        return [row for rows in self.rows.values() for row in rows if row.get("id") == object_id]

    def run_async(self, command, timeout, action=None, **params):
        """Record an async write; hanging commands time out, others return the VM with its new state."""
        self.writes.append((command, params))
        self._check(command, action)
        if command in self.hang:
            raise JobTimeout("job-1", {"jobstatus": 0}, timeout, action=action, command=command)
        states = {"startVirtualMachine": "Running", "stopVirtualMachine": "Stopped",
                  "rebootVirtualMachine": "Running", "migrateVirtualMachine": "Running"}
        vm = self._rows_with_id(params.get("id") or params.get("virtualmachineid"))[0]
        vm["state"] = states[command]
        if command == "stopVirtualMachine":
            vm.update(hostid=None, hostname=None)
        if params.get("hostid"):
            vm.update(hostid=params["hostid"], hostname=None)
        return {"virtualmachine": dict(vm)}


class FakeModule:
    """What the logic functions use of CloudStackModule."""

    def __init__(self, params, api, check_mode=False):
        self.params = params
        self.api = api
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, message):
        """Collect warnings."""
        self.warnings.append(message)
