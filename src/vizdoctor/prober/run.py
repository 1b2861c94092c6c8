"""Run the steps in the dashboard's order; a step that cannot run says why it was skipped."""

from __future__ import annotations

from vizdoctor.prober import steps as st
from vizdoctor.prober import transport
from vizdoctor.prober.model import ProbeOptions, ProbeResult, ProbeUsageError, Step, StepName


def _skipped(name: StepName, why: str) -> Step:
    return Step(name, "skipped", f"{name}: skipped ({why})", message=why)


def run_probe(opts: ProbeOptions) -> ProbeResult:
    """Probe the dashboard at opts.url. ProbeUsageError when the options are wrong or the URL cannot be
    reached at all (DNS, TCP or TLS failure on the first request)."""
    target = transport.parse_target(opts.url)
    headers = transport.request_headers(opts)
    st.normalise_resource(opts.resource)
    if opts.timeout <= 0 or opts.tap_seconds <= 0 or opts.idle < 0:
        raise ProbeUsageError("--timeout and --tap-seconds must be positive, --idle not negative")
    no_idle = "not requested: --idle SECONDS times the proxy's idle timeout"

    pr = st.page_step(target, opts, headers)
    page, final, headers = pr.step, pr.final, pr.headers  # no credentials for another origin
    out = [page]
    if page.status == "error":
        out.append(_skipped("websocket", "the page failed; every request fails the same way"))
        out.append(_skipped("tap", "no websocket"))
        out.append(_skipped("idle", "no websocket" if opts.idle else no_idle))
        return ProbeResult(target.url, out)

    ws_step, ws = st.websocket_step(final, opts, headers)
    out.append(ws_step)
    if ws is None:
        out.append(_skipped("tap", "no websocket"))
        out.append(_skipped("idle", "no websocket" if opts.idle else no_idle))
        return ProbeResult(target.url, out)
    with ws:
        out.append(st.tap_step(ws, opts))
    out.append(st.idle_step(final, opts, headers) if opts.idle else _skipped("idle", no_idle))
    return ProbeResult(target.url, out)
