"""The docking problem of a fair: which provider delivers which need, and which funder pays how much
of each need's shortfall, chosen to maximise value, with a proof of how close to optimal it is.

For provider edges (need n, provider p, price c, value v) and funder edges (need n, funder f,
affinity a per fen), choose y[n,p] in {0,1} and whole fen x[f,n] >= 0 to maximise
sum v*y + sum a*x such that each need has at most one provider, provider p takes at most cap[p]
needs, each need's funders pay exactly its shortfall sum max(0, c[n,p] - gov[n]) * y[n,p], each
funder gives at most its budget, pinned pairs are chosen and forbidden pairs are not.

`parse` turns JSON into an `Instance` or refuses it naming the bad entry; `solve` answers with a
`Result` whose `upper_bound` is proven (a dual solution of the LP relaxation) so `gap` says how far
from optimal the answer can be. The method is in `market.matching.solver.method`. Ids are integers or
strings; 1 and "1" are different ids.
"""

from __future__ import annotations

import time

import msgspec

from market.core.errors import Invalid
from market.core.i18n import N_
from market.matching.solver.method import dock
from market.matching.solver.models import Instance, Result
from market.matching.solver.problem import index

def parse(data: bytes) -> Instance:
    """JSON as an Instance; anything malformed or inconsistent is refused (InvalidFields), each
    problem naming its entry, e.g. `provider_edges[12]`."""

    try:
        instance = msgspec.json.decode(data, type=Instance)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Invalid(N_("The input is not valid: %(problem)s"), problem=str(exc)) from None
    index(instance)
    return instance


def solve(instance: Instance, time_limit: float = 60.0) -> Result:
    """The best docking found, its objective, a proven upper bound and the relative gap between them.

    Deterministic for the same instance unless a stage runs out of time: of `time_limit` seconds,
    or, on an instance small enough to be solved outright, of the EXACT_BY seconds branch and
    bound is given, or on a district-sized one of the LNS_BY seconds the large-neighbourhood
    search may run to (method.py). Then the answer depends on how far that stage got: still
    feasible, just possibly further from the bound. Pins that cannot all be kept are refused with
    Invalid."""

    deadline = time.monotonic() + time_limit
    return dock(index(instance), deadline)
