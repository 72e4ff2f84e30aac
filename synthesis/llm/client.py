"""Chat completions over any OpenAI-compatible endpoint, with a request cache for exact replays.

Configured the `openai` SDK's way: `OPENAI_API_KEY` and `OPENAI_BASE_URL` (for example
`http://127.0.0.1:8000/v1` for vLLM, `http://127.0.0.1:11434/v1` for Ollama), plus the settings below.
Retries with exponential backoff on 429, 5xx, timeouts and dropped connections are the SDK's own
(`max_retries`). Servers that ignore or refuse `n > 1` (several local servers) are detected and asked
for one completion per request instead.

Record and replay: every request (model, messages, sampling settings; never the key or headers) and its
completions are written to the cache folder, keyed by a hash of the request and its occurrence number (the
k-th identical request of a run is a separate entry). A request found there is answered from it without
network, so a run repeated with the same cache is identical and needs no endpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from karel.atomic import write_atomic


@dataclass(frozen=True)
class LlmSettings:
    model: str = "gpt-4-turbo-2024-04-09"
    temperature: float = 1.0
    top_p: float = 1.0
    completions_per_request: int = 48  # n; the first round of LLM-GS asks for 48 in one request
    max_tokens: int | None = None
    request_timeout: float = 300.0  # seconds per request
    max_retries: int = 5  # SDK retries with backoff on 429 / 5xx / timeouts


class LlmError(RuntimeError):
    """The endpoint could not be used (no key, no cache entry offline, repeated failures)."""


class ChatClient:
    """`complete(system, user, n)` returns n completion texts, from the cache or the endpoint."""

    def __init__(self, settings: LlmSettings, cache_dir: str | Path | None = None,
                 log_path: str | Path | None = None):  # fmt: skip
        self.settings = settings
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.log_path = Path(log_path) if log_path else None
        self.seen: Counter[str] = Counter()
        self.supports_n = True
        self.requests = 0  # requests sent to the endpoint (cache hits excluded)
        self._client = None

    def complete(self, system: str, user: str, n: int) -> list[str]:
        texts: list[str] = []
        while len(texts) < n:
            want = min(n - len(texts), self.settings.completions_per_request if self.supports_n else 1)
            texts += self._request(system, user, want)
        return texts[:n]

    def _request(self, system: str, user: str, n: int) -> list[str]:
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
            texts = json.loads(cached.read_text())["completions"]
            self._log(body, texts, source="cache")
            return texts
        texts = self._call(body)
        if cached is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(cached, json.dumps({"request": body, "completions": texts}, indent=1) + "\n")
        self._log(body, texts, source="endpoint")
        return texts

    def _call(self, body: dict) -> list[str]:
        import openai

        client = self._sdk()
        try:
            response = client.chat.completions.create(**body)
        except openai.BadRequestError as error:
            if body["n"] > 1 and "n" in str(error):  # a server that refuses n > 1
                self.supports_n = False
                return self._call({**body, "n": 1})
            raise LlmError(f"the endpoint refused the request: {error}") from None
        except (openai.APIError, openai.APIConnectionError) as error:
            raise LlmError(f"the endpoint failed after {self.settings.max_retries} retries: {error}") from None
        self.requests += 1
        texts = [choice.message.content or "" for choice in response.choices]
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

    def _log(self, body: dict, texts: list[str], source: str) -> None:
        if self.log_path is None:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as f:
            f.write(json.dumps({"source": source, "request": body, "completions": texts}) + "\n")

    def describe(self) -> dict:
        return {**asdict(self.settings), "base_url": os.environ.get("OPENAI_BASE_URL")}
