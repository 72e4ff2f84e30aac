"""Chat completions over any OpenAI-compatible endpoint, with a request cache for exact replays.

Configured the `openai` SDK's way: `OPENAI_API_KEY` and `OPENAI_BASE_URL` (for example
`http://127.0.0.1:8000/v1` for vLLM, `http://127.0.0.1:11434/v1` for Ollama), plus the settings below.
Retries with exponential backoff on 429, 5xx, timeouts and dropped connections are the SDK's own
(`max_retries`). Servers that ignore or refuse `n > 1` (several local servers) are detected and asked
for one completion per request instead.

Every answer is checked (`_completions`): a 200 whose body is not JSON (an HTML page from a proxy, a body
cut short), is not a chat completion or has no choices (`"choices": []`) counts as a failed request
(`failed_requests`) and is asked again, at most `max_retries` times with backoff, before an `LlmError`
says what came back; so a broken server costs at most `max_retries + 1` requests per completion asked,
never an endless loop. A cache entry that cannot be read is an `LlmError` naming the file (it is not
replaced: delete it to ask the endpoint again). Credentials never reach a file: the key is never written,
and `describe()` (written to `llm/summary.json`) gives `OPENAI_BASE_URL` without user and password and
with secret-looking query values (key, token, secret, password, signature) replaced by `***`.

Record and replay: every request (model, messages, sampling settings; never the key or headers) and its
completions are written to the cache folder, keyed by a hash of the request and its occurrence number (the
k-th identical request of a run is a separate entry). A request found there is answered from it without
network, so a run repeated with the same cache is identical and needs no endpoint.

Accounting: each completion keeps its `finish_reason` (`length`: cut off by `max_tokens`), each request
its `usage` (prompt and completion tokens, as the server reports them; None where it reports none). Both
are recorded in the cache and in the request log, so a replayed run counts the same tokens as the run it
replays.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from karel.atomic import write_atomic
from synthesis.settings import SettingsError


@dataclass(frozen=True)
class LlmSettings:
    """What is asked of the endpoint (`OPENAI_API_KEY` and `OPENAI_BASE_URL` say where)."""

    model: str = "gpt-4-turbo-2024-04-09"
    """model name at the endpoint (OPENAI_API_KEY, OPENAI_BASE_URL configure the endpoint)"""
    temperature: float = 1.0
    """sampling temperature"""
    top_p: float = 1.0
    """nucleus sampling top_p"""
    completions_per_request: int = 48
    """completions per request (n; LLM-GS asks for 48 in one); servers without n > 1 get n = 1 requests"""
    max_tokens: int = 0
    """max tokens per completion (0: the server's default)"""
    request_timeout: float = 300.0
    """seconds per request"""
    max_retries: int = 5
    """retries with backoff on 429, 5xx, timeouts and malformed answers"""

    def validate(self) -> None:
        if not self.model:
            raise SettingsError("llm: model must be named")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise SettingsError(
                f"llm: need temperature >= 0 and 0 < top_p <= 1, got {self.temperature} and {self.top_p}"
            )
        if self.completions_per_request < 1 or self.max_tokens < 0 or self.request_timeout <= 0 or self.max_retries < 0:
            raise SettingsError("llm: need completions_per_request >= 1, max_tokens >= 0, request_timeout > 0 and "
                             "max_retries >= 0")  # fmt: skip


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None  # "stop", "length" (cut off by max_tokens), ...; None where not recorded


class LlmError(RuntimeError):
    """The endpoint could not be used (no key, no cache entry offline, repeated failures, malformed
    answers, an unreadable cache entry)."""


class MalformedAnswerError(LlmError):
    """A 200 answer that is not a usable chat completion (not JSON, no choices)."""


MALFORMED_BACKOFF = 0.5  # seconds before the first re-ask after a malformed answer, doubled each time
_SECRET_QUERY = re.compile(r"key|token|secret|password|passwd|sig", re.IGNORECASE)


def redact_url(url: str | None) -> str | None:
    """`url` without user and password, secret-looking query values replaced by `***`."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL, not shown>"
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    query = urlencode([(k, "***" if _SECRET_QUERY.search(k) else v) for k, v in parse_qsl(parts.query, True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class ChatClient:
    """`complete(system, user, n)` returns n completion texts, from the cache or the endpoint."""

    def __init__(self, settings: LlmSettings, cache_dir: str | Path | None = None,
                 log_path: str | Path | None = None):  # fmt: skip
        self.settings = settings
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.log_path = Path(log_path) if log_path else None
        self.seen: Counter[str] = Counter()
        self.supports_n = True
        self.requests = 0  # requests answered by the endpoint (cache hits excluded), malformed answers included
        self.failed_requests = 0  # answers that were not usable chat completions
        self.replayed = 0  # requests answered from the cache
        self.prompt_tokens = self.completion_tokens = 0  # over all requests, replayed ones included
        self.usage_missing = 0  # requests whose server reported no usage
        self._client = None
        self._last: tuple[list[str | None], dict | None] = ([], None)  # the last call's finish reasons, usage

    def complete(self, system: str, user: str, n: int) -> list[str]:
        return [c.text for c in self.complete_detailed(system, user, n)]

    def complete_detailed(self, system: str, user: str, n: int) -> list[Completion]:
        """n completions with their finish reasons."""
        out: list[Completion] = []
        while len(out) < n:
            want = min(n - len(out), self.settings.completions_per_request if self.supports_n else 1)
            out += self._request(system, user, want)
        return out[:n]

    def _request(self, system: str, user: str, n: int) -> list[Completion]:
        body = {
            "model": self.settings.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": self.settings.temperature,
            "top_p": self.settings.top_p,
            "n": n,
        }
        if self.settings.max_tokens:
            body["max_tokens"] = self.settings.max_tokens
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
        self.seen[digest] += 1
        entry = f"{digest}-{self.seen[digest]}.json"
        cached = self.cache_dir / entry if self.cache_dir else None
        if cached is not None and cached.exists():
            texts, reasons, usage = _read_cache_entry(cached)
            self.replayed += 1
            self._log(body, texts, reasons, usage, source="cache")
            return [Completion(t, r) for t, r in zip(texts, reasons)]
        texts = self._call(body)
        reasons, usage = self._last
        if cached is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            record = {"request": body, "completions": texts, "finish_reasons": reasons, "usage": usage}
            write_atomic(cached, json.dumps(record, indent=1) + "\n")
        self._log(body, texts, reasons, usage, source="endpoint")
        return [Completion(t, r) for t, r in zip(texts, reasons)]

    def _call(self, body: dict) -> list[str]:
        """The completions of one request; a malformed answer is asked again, at most `max_retries` times."""
        for attempt in range(self.settings.max_retries + 1):
            try:
                return self._call_once(body)
            except MalformedAnswerError as error:
                self.failed_requests += 1
                if attempt == self.settings.max_retries:
                    raise MalformedAnswerError(f"the endpoint's answer was not a usable chat completion "
                                               f"{attempt + 1} times in a row: {error}") from None  # fmt: skip
                time.sleep(MALFORMED_BACKOFF * 2**attempt)
        raise AssertionError("unreachable")

    def _call_once(self, body: dict) -> list[str]:
        import openai

        client = self._sdk()
        try:
            response = client.chat.completions.create(**body)
        except openai.BadRequestError as error:
            if body["n"] > 1 and "n" in str(error):  # a server that refuses n > 1
                self.supports_n = False
                return self._call_once({**body, "n": 1})
            raise LlmError(f"the endpoint refused the request: {_first_line(error)}") from None
        except (openai.APIError, openai.APIConnectionError) as error:
            raise LlmError(f"the endpoint failed after {self.settings.max_retries} retries: "
                           f"{_first_line(error)}") from None  # fmt: skip
        except ValueError as error:  # the SDK's JSON decoding of a 200 body
            self.requests += 1
            raise MalformedAnswerError(f"the body is not valid JSON ({error})") from None
        self.requests += 1
        texts = _completions(response)
        self._last = ([getattr(choice, "finish_reason", None) for choice in response.choices], _usage(response))
        if body["n"] > 1 and len(texts) < body["n"]:
            self.supports_n = False  # a server that ignores n: keep what came, ask one at a time
        return texts

    def _sdk(self):
        if self._client is None:
            from openai import OpenAI

            key = os.environ.get("OPENAI_API_KEY")
            base_url = os.environ.get("OPENAI_BASE_URL")
            if not key and not base_url:
                raise LlmError("no endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL for a local server), or "
                               "replay a recorded run with --llm-cache")  # fmt: skip
            self._client = OpenAI(api_key=key or "unused-local-key", base_url=base_url,
                                  timeout=self.settings.request_timeout, max_retries=self.settings.max_retries)  # fmt: skip
        return self._client

    def _log(self, body: dict, texts: list[str], reasons: list, usage: dict | None, source: str) -> None:
        if usage is None:
            self.usage_missing += 1
        else:
            self.prompt_tokens += usage["prompt_tokens"] or 0
            self.completion_tokens += usage["completion_tokens"] or 0
        if self.log_path is None:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        record = {"source": source, "request": body, "completions": texts, "finish_reasons": reasons,
                  "usage": usage}  # fmt: skip
        with open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def accounting(self) -> dict:
        """Requests and tokens so far (tokens over endpoint and replayed requests alike)."""
        return {"requests_sent": self.requests, "failed_requests": self.failed_requests,
                "requests_replayed": self.replayed,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "requests_without_usage": self.usage_missing}  # fmt: skip

    def describe(self) -> dict:
        """The settings and the endpoint, safe to write: credentials removed (`redact_url`)."""
        return {**asdict(self.settings), "base_url": redact_url(os.environ.get("OPENAI_BASE_URL"))}


def _completions(response) -> list[str]:
    """The completion texts of an SDK response; anything but a chat completion with at least one choice
    holding a message is a `MalformedAnswerError` saying what came instead."""
    if isinstance(response, (str, bytes)):  # the SDK hands over a body it could not read as JSON
        text = response if isinstance(response, str) else response.decode("utf-8", "replace")
        kind = "an HTML page" if text.lstrip()[:15].lower().startswith(("<!doctype", "<html")) else "not JSON"
        return _malformed(f"the body is {kind}: {' '.join(text.split())[:80]!r}")
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list):
        return _malformed(f"a {type(response).__name__} without a list of choices")
    if not choices:
        return _malformed('no completions ("choices": [])')
    messages = [getattr(choice, "message", None) for choice in choices]
    if any(message is None for message in messages):
        return _malformed("a choice without a message")
    return [message.content or "" for message in messages]


def _malformed(reason: str):
    raise MalformedAnswerError(reason)


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _read_cache_entry(path: Path) -> tuple[list[str], list[str | None], dict | None]:
    """The recorded completions, finish reasons and usage of a cache entry (entries written before finish
    reasons were recorded give None for both); an unreadable entry is an `LlmError` naming it."""
    try:
        record = json.loads(path.read_text())
        texts = record["completions"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise LlmError(f"cache entry {path} cannot be read ({type(error).__name__}: {_first_line(error)}); "
                       "delete it to ask the endpoint again") from None  # fmt: skip
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise LlmError(f"cache entry {path} holds no list of completion texts; delete it to ask the endpoint again")
    reasons = record.get("finish_reasons") or [None] * len(texts)
    usage = record.get("usage")
    if len(reasons) != len(texts) or not (usage is None or isinstance(usage, dict)):
        raise LlmError(f"cache entry {path} has finish reasons or usage that do not match its completions; "
                       "delete it to ask the endpoint again")  # fmt: skip
    return texts, reasons, usage


def _usage(response) -> dict | None:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    return {
        "prompt_tokens": getattr(usage, "prompt_tokens", None),
        "completion_tokens": getattr(usage, "completion_tokens", None),
    }
