"""A small client of `numaplace serve` (docs/api/openapi.yaml): JSON over
HTTP/1.1 on a unix socket ("unix:/run/numaplace/serve.sock", the form
`numaplace serve --listen` takes) or TCP ("http://127.0.0.1:8080", with a
bearer token from a file).  Standard library only, so that it can be used
without Nova; one connection per call, which is safe under eventlet
(nova-scheduler's green threads never share a socket) and cheap on a unix
socket.

Errors are raised as ServiceError with the service's JSON error code when
it sent one ("no_valid_host", "bad_request", ...) or "unreachable" /
"bad_answer" when it could not be asked or answered nonsense.
"""

import http.client
import json
import socket
import urllib.parse

# Bytes of one answer read at most: far above 100,000 hosts' answers.
MAX_ANSWER = 64 << 20


class ServiceError(Exception):
    """The service refused, failed, or could not be reached."""

    def __init__(self, code, message, status=None):
        super().__init__('%s: %s' % (code, message))
        self.code = code
        self.message = message
        self.status = status


class _UnixConnection(http.client.HTTPConnection):
    """HTTPConnection to a unix socket path."""

    def __init__(self, path, timeout):
        super().__init__('localhost', timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self._path)
        except OSError:
            s.close()
            raise
        self.sock = s


def parse_url(url):
    """'unix:PATH' or 'http://HOST:PORT' -> ('unix', PATH) / ('tcp', (HOST, PORT))."""
    if url.startswith('unix:'):
        path = url[len('unix:'):]
        if path.startswith('//'):  # unix:///run/x.sock
            path = path[2:]
        if not path:
            raise ValueError("numaplace url '%s' names no socket" % url)
        return 'unix', path
    u = urllib.parse.urlsplit(url)
    if u.scheme != 'http' or not u.hostname:
        raise ValueError("numaplace url '%s': want unix:PATH or http://HOST:PORT" % url)
    return 'tcp', (u.hostname, u.port or 80)


class Client(object):
    """Calls to one service.  TOKEN_FILE is read at every call (a rotated
    token needs no restart); required on TCP by the service, unused on a
    unix socket."""

    def __init__(self, url, token_file=None, timeout=5.0):
        self.kind, self.where = parse_url(url)
        self.url = url
        self.token_file = token_file
        self.timeout = timeout

    def _connection(self):
        if self.kind == 'unix':
            return _UnixConnection(self.where, self.timeout)
        return http.client.HTTPConnection(self.where[0], self.where[1],
                                          timeout=self.timeout)

    def _headers(self, body):
        h = {'Accept': 'application/json'}
        if body is not None:
            h['Content-Type'] = 'application/json'
        if self.token_file:
            try:
                with open(self.token_file) as f:
                    token = f.read().strip()
            except OSError as e:
                raise ServiceError('unreachable', 'cannot read token file %s: %s'
                                   % (self.token_file, e.strerror))
            h['Authorization'] = 'Bearer ' + token
        return h

    def call(self, method, path, body=None):
        """METHOD PATH with BODY (a JSON-able object); the decoded answer.
        Raises ServiceError for an error answer, a failure to connect or
        a time-out."""
        data = None if body is None else json.dumps(body).encode()
        conn = self._connection()
        try:
            conn.request(method, path, body=data, headers=self._headers(body))
            resp = conn.getresponse()
            raw = resp.read(MAX_ANSWER + 1)
            status = resp.status
        except (OSError, http.client.HTTPException) as e:
            raise ServiceError('unreachable', '%s %s at %s: %s' % (
                method, path, self.url, e))
        finally:
            conn.close()
        if len(raw) > MAX_ANSWER:
            raise ServiceError('bad_answer', 'answer over %d bytes' % MAX_ANSWER, status)
        try:
            doc = json.loads(raw.decode('utf-8')) if raw else None
        except ValueError as e:
            raise ServiceError('bad_answer', 'not JSON (%s): %r' % (e, raw[:200]), status)
        if status >= 400:
            err = (doc or {}).get('error', {}) if isinstance(doc, dict) else {}
            raise ServiceError(err.get('code', 'http_%d' % status),
                               err.get('message', 'HTTP %d' % status), status)
        return doc

    def fit(self, flavor, image=None, hosts=None, pci_aliases=None,
            pending=None):
        """POST /v1/fit: {name: {"fits": bool, "nodes": [...] or "reason"}}.
        PCI_ALIASES: Nova's `[pci] alias` entries (dicts), for a flavor
        with pci_passthrough:alias.  PENDING: {name: copies of this guest
        already chosen for that host of HOSTS and not claimed here}."""
        body = {'flavor': flavor}
        if image is not None:
            body['image'] = image
        if hosts is not None:
            body['hosts'] = list(hosts)
        if pci_aliases:
            body['pci_aliases'] = list(pci_aliases)
        if pending:
            body['pending'] = dict(pending)
        doc = self.call('POST', '/v1/fit', body)
        if not isinstance(doc, dict) or not isinstance(doc.get('hosts'), dict):
            raise ServiceError('bad_answer', 'no "hosts" object in the answer')
        return doc['hosts']
