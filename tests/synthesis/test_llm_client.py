"""The chat client against a real HTTP server on 127.0.0.1, through the real `openai` SDK."""

import json

import pytest

from synthesis.llm.client import ChatClient, LlmError, LlmSettings
from tests.synthesis.chat_server import ChatServer

ANSWERS = ["answer one", "answer two", "answer three"]


@pytest.fixture
def endpoint(monkeypatch):
    def start(script=None, answers=ANSWERS, slow_seconds=3.0):
        server = ChatServer(answers, script, slow_seconds)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key")
        return server

    return start


def settings(**overrides):
    return LlmSettings(**{"model": "test-model", "completions_per_request": 48, "request_timeout": 5.0,
                          "max_retries": 2, **overrides})  # fmt: skip


def test_well_formed_answers_in_one_request(endpoint):
    with endpoint() as server:
        texts = ChatClient(settings()).complete("system", "user", 3)
    assert texts == ANSWERS
    [request] = server.requests
    assert request["body"]["n"] == 3 and request["body"]["model"] == "test-model"
    assert request["body"]["messages"][0] == {"role": "system", "content": "system"}
    assert request["headers"]["authorization"] == "Bearer sk-test-secret-key"


def test_rate_limit_then_success_is_retried(endpoint):
    with endpoint(["429", "429", "ok"]) as server:
        texts = ChatClient(settings(max_retries=3)).complete("s", "u", 2)
    assert texts == ANSWERS[:2] and len(server.requests) == 3


def test_server_errors_beyond_the_retries_raise(endpoint):
    with endpoint(["500"]) as server, pytest.raises(LlmError, match="failed after 1 retries"):
        ChatClient(settings(max_retries=1)).complete("s", "u", 1)
    assert len(server.requests) == 2


def test_timeout_raises_a_clear_error(endpoint):
    with endpoint(["slow"], slow_seconds=2.0), pytest.raises(LlmError, match="failed"):
        ChatClient(settings(request_timeout=0.3, max_retries=0)).complete("s", "u", 1)


def test_server_refusing_n_gets_single_requests(endpoint):
    with endpoint(["no_n"]) as server:
        client = ChatClient(settings())
        texts = client.complete("s", "u", 3)
    assert texts == ANSWERS and not client.supports_n
    assert [r["body"]["n"] for r in server.requests] == [3, 1, 1, 1]


def test_server_ignoring_n_gets_single_requests(endpoint):
    with endpoint(["one"]) as server:
        client = ChatClient(settings())
        texts = client.complete("s", "u", 3)
    assert len(texts) == 3 and not client.supports_n
    assert [r["body"]["n"] for r in server.requests] == [3, 1, 1]


def test_recorded_requests_replay_without_network(endpoint, tmp_path, monkeypatch):
    with endpoint() as server:
        first = ChatClient(settings(), cache_dir=tmp_path / "cache")
        recorded = [first.complete("s", "u", 2), first.complete("s", "u", 2)]  # identical requests, two entries
    assert len(server.requests) == 2
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    replay = ChatClient(settings(), cache_dir=tmp_path / "cache", log_path=tmp_path / "log.jsonl")
    assert [replay.complete("s", "u", 2), replay.complete("s", "u", 2)] == recorded
    assert replay.requests == 0
    with pytest.raises(LlmError, match="OPENAI_API_KEY"):
        replay.complete("s", "u", 2)  # a third such request was never recorded
    assert "sk-test-secret-key" not in (tmp_path / "log.jsonl").read_text()
    assert all("sk-test" not in p.read_text() for p in (tmp_path / "cache").iterdir())


@pytest.fixture
def quick_backoff(monkeypatch):
    import synthesis.llm.client

    monkeypatch.setattr(synthesis.llm.client, "MALFORMED_BACKOFF", 0.01)


@pytest.mark.parametrize(
    "behaviour, reason",
    [
        ("empty", r'no completions \("choices": \[\]\)'),
        ("bad_json", r"the body is not valid JSON \(Unterminated string"),
        ("html", r"the body is an HTML page: '<!DOCTYPE html><html><body><h1>Sign in"),
    ],
)
def test_malformed_200_answers_are_asked_again_a_bounded_number_of_times(endpoint, quick_backoff, behaviour, reason):
    with endpoint([behaviour]) as server:
        client = ChatClient(settings(max_retries=2))
        with pytest.raises(LlmError, match=f"not a usable chat completion 3 times in a row: {reason}"):
            client.complete("s", "u", 4)
    assert len(server.requests) == 3  # the first request and 2 retries, then a clear error: no endless loop
    assert (client.requests, client.failed_requests) == (3, 3)


def test_a_malformed_answer_then_a_good_one_counts_one_failed_request(endpoint, quick_backoff):
    with endpoint(["empty", "html", "ok"]) as server:
        client = ChatClient(settings(max_retries=2))
        assert client.complete("s", "u", 2) == ANSWERS[:2]
    assert len(server.requests) == 3 and (client.requests, client.failed_requests) == (3, 2)
    assert client.supports_n  # a malformed answer is not taken for a server that ignores n


def test_a_choice_without_content_is_an_empty_completion(endpoint):
    with endpoint(["no_content"]):
        assert ChatClient(settings()).complete("s", "u", 2) == ["", ""]


def test_a_corrupt_cache_entry_is_a_clear_error_and_is_kept(endpoint, tmp_path):
    with endpoint():
        ChatClient(settings(), cache_dir=tmp_path / "cache").complete("s", "u", 2)
    [entry] = (tmp_path / "cache").iterdir()
    for corrupt in (b'{"request": {}, "compl', b"\xff\xfe", b'{"request": {}}', b'{"completions": [1, 2]}'):
        entry.write_bytes(corrupt)
        with pytest.raises(LlmError, match=f"cache entry {entry} .*; delete it to ask the endpoint again"):
            ChatClient(settings(), cache_dir=tmp_path / "cache").complete("s", "u", 2)
        assert entry.read_bytes() == corrupt  # not replaced: nothing recorded is lost


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://user:password@127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://user@api.example.com/v1", "https://api.example.com/v1"),
        ("https://u:p@[::1]:9/v1?api-key=abc&api-version=2024", "https://[::1]:9/v1?api-key=***&api-version=2024"),
        ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"),
        ("http://h:99999999/", "<unparsable URL, not shown>"),
    ],
)
def test_describe_never_shows_credentials_of_the_base_url(monkeypatch, url, shown):
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    assert ChatClient(settings()).describe()["base_url"] == shown


def test_finish_reasons_and_usage_are_kept_logged_and_replayed(endpoint, tmp_path, monkeypatch):
    answers = [("a b c", "stop"), ("cut off here", "length")]
    with endpoint(answers=answers):
        live = ChatClient(settings(), cache_dir=tmp_path / "cache", log_path=tmp_path / "live.jsonl")
        completions = live.complete_detailed("one two", "three", 2)
    assert [(c.text, c.finish_reason) for c in completions] == answers
    assert live.accounting() == {"requests_sent": 1, "failed_requests": 0, "requests_replayed": 0, "prompt_tokens": 3,
                                 "completion_tokens": 6, "requests_without_usage": 0}  # fmt: skip
    [record] = [json.loads(line) for line in (tmp_path / "live.jsonl").read_text().splitlines()]
    assert record["usage"] == {"prompt_tokens": 3, "completion_tokens": 6}
    assert record["finish_reasons"] == ["stop", "length"] and record["source"] == "endpoint"
    monkeypatch.delenv("OPENAI_BASE_URL")
    replay = ChatClient(settings(), cache_dir=tmp_path / "cache")
    assert replay.complete_detailed("one two", "three", 2) == completions
    assert replay.accounting()["prompt_tokens"] == 3 and replay.accounting()["requests_replayed"] == 1


def test_cache_entries_without_finish_reasons_replay_as_unknown(tmp_path, endpoint):
    with endpoint():
        ChatClient(settings(), cache_dir=tmp_path / "cache").complete("s", "u", 1)
    [entry] = (tmp_path / "cache").iterdir()
    record = json.loads(entry.read_text())
    entry.write_text(json.dumps({"request": record["request"], "completions": record["completions"]}))
    client = ChatClient(settings(), cache_dir=tmp_path / "cache")
    [completion] = client.complete_detailed("s", "u", 1)
    assert completion.finish_reason is None and client.accounting()["requests_without_usage"] == 1
