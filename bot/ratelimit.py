"""Per-client limits on questions: who the client is (behind trusted proxies only), and whether it may ask now."""

import ipaddress
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Every question counts against one limit, whichever door (JSON API, chat, Gradio API) it came through.
NAMESPACE = "questions"


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and CIDRs as networks (a bare address is a network of one)."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy, in which case the nearest address in
    X-Forwarded-For that is not a trusted proxy (read from the right, since each proxy appends the one it saw)."""
    candidate = peer or "unknown"
    address = _address(candidate)
    if not trusted or address is None or not _trusted(address, trusted) or not forwarded_for:
        return candidate
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            break  # whatever stands left of a malformed entry was written by someone we cannot vouch for
        candidate = str(hop_address)
        if not _trusted(hop_address, trusted):
            break
    return candidate


def _trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


@dataclass(frozen=True)
class Verdict:
    """Whether a question may be answered now, and if not, after how many whole seconds to try again."""

    allowed: bool
    retry_after_s: int = 0


class RateLimiter:
    """A moving-window limit per client address, held in this process's memory (each replica counts its own)."""

    def __init__(self, rule: str | None, trusted_proxies: Iterable[str] = ()) -> None:
        self.items: list[RateLimitItem] = parse_many(rule) if rule else []
        self.trusted = parse_networks(trusted_proxies)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    @classmethod
    def from_settings(cls, settings: Settings) -> "RateLimiter":
        """The limiter the settings describe (no limit when CIVICBOT_RATE_LIMIT is unset)."""
        return cls(settings.rate_limit, settings.trusted_proxies)

    @property
    def enabled(self) -> bool:
        """Whether any limit is set."""
        return bool(self.items)

    def client(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """Who is asking, as far as this server can trust what it is told."""
        forwarded = headers.get("x-forwarded-for") or headers.get("X-Forwarded-For")
        return client_address(peer, forwarded, self.trusted)

    def hit(self, client: str) -> Verdict:
        """Count one question from a client, unless it is already over a limit."""
        # Every limit is tested before any is counted, so a refused question uses up none of them.
        for item in self.items:
            if not self._limiter.test(item, NAMESPACE, client):
                reset_at = self._limiter.get_window_stats(item, NAMESPACE, client).reset_time
                return Verdict(False, max(1, math.ceil(reset_at - time.time())))
        for item in self.items:
            self._limiter.hit(item, NAMESPACE, client)
        return Verdict(True)
