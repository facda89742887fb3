"""`market bench matching`: generated docking instances of two sizes, solved, with time, peak memory,
objective, bound and gap. Not a test: figures for the record.

Each size runs in its own process (`python -m market.matching.bench SIZE SEED`) so its peak memory
(the process's maximum resident set size, from getrusage) is that of one solve with nothing else
left over, interpreter, numpy and HiGHS included.

The generator is seeded and deterministic. Needs have a typical price (log-uniform ¥200 to
¥20,000) and government money covering 20-100 % of it; each has 15-25 providers nearby (a run of
neighbouring provider numbers, as providers near a need serve it) quoting 75-135 % of the typical
price, valued by the provider's quality; and 4-6 funders with affinities 0.05-0.5 per fen. Funders'
budgets add up to half of what funding every need with an average quote would take, so they bind.
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time

import msgspec
import numpy as np

from market.matching.solver import (Funder, FunderEdge, Instance, Need, Provider, ProviderEdge, Result,
                                    parse, solve)

# needs, providers, funders, largest capacity (capacities are 1..largest)
SIZES = {"district": (500, 150, 200, 6), "city": (20_000, 5_000, 2_000, 7)}
BUDGET_SHARE = 0.5


def _neighbours(rng: np.random.Generator, rows: int, pool: int, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, low..high distinct members of range(pool) a few steps apart from a random start
    (steps are short enough that a row never wraps round onto itself)."""
    degree = rng.integers(low, high + 1, rows)
    steps = rng.integers(1, max(1, pool // high) + 1, (rows, high))
    steps[:, 0] = rng.integers(0, pool, rows)
    members = np.cumsum(steps, axis=1) % pool
    r, c = np.nonzero(np.arange(high)[None, :] < degree[:, None])
    return r, members[r, c]


def generate(size: str, seed: int = 1) -> Instance:
    return generate_sized(*SIZES[size], seed=seed)


def generate_sized(n_needs: int, n_providers: int, n_funders: int, max_capacity: int, seed: int = 1) -> Instance:
    """An instance of the benchmark's kind in any size (at least 25 providers and 6 funders)."""
    rng = np.random.default_rng(seed)
    typical = np.round(np.exp(rng.uniform(np.log(2e4), np.log(2e6), n_needs)), -2)
    gov = np.round(typical * rng.uniform(0.2, 1.0, n_needs), -2).astype(np.int64)
    capacity = rng.integers(1, max_capacity + 1, n_providers)
    quality = rng.uniform(0.8, 1.4, n_providers)
    pn, pp = _neighbours(rng, n_needs, n_providers, 15, 25)
    price = np.round(typical[pn] * rng.uniform(0.75, 1.35, pn.size), -2).astype(np.int64)
    value = np.round(typical[pn] * quality[pp] * rng.uniform(0.85, 1.15, pn.size), 2)
    fn, ff = _neighbours(rng, n_needs, n_funders, 4, 6)
    affinity = np.round(rng.uniform(0.05, 0.5, fn.size), 4)
    shortfall = np.maximum(0, price - gov[pn])
    full = float(np.sum(np.bincount(pn, shortfall, n_needs) / np.bincount(pn, minlength=n_needs)))
    weight = np.bincount(ff, minlength=n_funders) * rng.uniform(0.5, 1.5, n_funders)
    budget = np.floor(BUDGET_SHARE * full * weight / weight.sum()).astype(np.int64)
    return Instance(
        needs=[Need(i + 1, g) for i, g in enumerate(gov.tolist())],
        providers=[Provider(j + 1, c) for j, c in enumerate(capacity.tolist())],
        funders=[Funder(k + 1, b) for k, b in enumerate(budget.tolist())],
        provider_edges=[ProviderEdge(n + 1, p + 1, c, v) for n, p, c, v in
                        zip(pn.tolist(), pp.tolist(), price.tolist(), value.tolist())],
        funder_edges=[FunderEdge(n + 1, f + 1, a) for n, f, a in zip(fn.tolist(), ff.tolist(), affinity.tolist())],
    )


def violations(instance: Instance, result: Result) -> list[str]:
    """What in the result breaks the instance's rules (empty if nothing), checked in integers."""
    gov = {n.id: n.gov_money for n in instance.needs}
    capacity = {p.id: p.capacity for p in instance.providers}
    budget = {f.id: f.budget for f in instance.funders}
    price = {(e.need, e.provider): e.price for e in instance.provider_edges}
    funder_edge = {(e.need, e.funder) for e in instance.funder_edges}
    problems, load, owed, spent = [], dict.fromkeys(capacity, 0), {}, dict.fromkeys(budget, 0)
    for a in result.assignments:
        if (a.need, a.provider) not in price or a.need in owed:
            problems.append(f"assignment {a.need}-{a.provider} is not an edge or repeats a need")
            continue
        load[a.provider] += 1
        owed[a.need] = max(0, price[a.need, a.provider] - gov[a.need])
    for f in result.funding:
        if (f.need, f.funder) not in funder_edge or f.amount <= 0 or f.need not in owed:
            problems.append(f"funding {f.need}-{f.funder} of {f.amount} is not allowed")
            continue
        owed[f.need] -= f.amount
        spent[f.funder] += f.amount
    problems += [f"provider {p} over capacity" for p, n in load.items() if n > capacity[p]]
    problems += [f"funder {f} over budget" for f, n in spent.items() if n > budget[f]]
    problems += [f"need {n} paid {-o} fen too much" if o < 0 else f"need {n} short of {o} fen"
                 for n, o in owed.items() if o]
    return problems


def run_one(size: str, seed: int) -> dict:
    """Generate, write and read back as JSON (the CLI's path), solve, check; the figures."""
    importlib.import_module("market.matching.method")  # loaded before the clock starts: imports are not solving
    data = msgspec.json.encode(generate(size, seed))
    started = time.perf_counter()
    instance = parse(data)
    parsed = time.perf_counter()
    result = solve(instance)
    solved = time.perf_counter()
    total_budget = sum(f.budget for f in instance.funders)
    return {
        "size": size, "seed": seed, "needs": len(instance.needs), "providers": len(instance.providers),
        "funders": len(instance.funders), "provider_edges": len(instance.provider_edges),
        "funder_edges": len(instance.funder_edges),
        "parse_seconds": parsed - started, "solve_seconds": solved - parsed,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "objective": result.objective, "upper_bound": result.upper_bound, "gap": result.gap,
        "assigned": len(result.assignments),
        "budget_used": sum(f.amount for f in result.funding) / total_budget if total_budget else 0.0,
        "violations": violations(instance, result)[:5],
    }


def main(sizes: list[str], seed: int) -> int:
    """Each size in a child process; print its figures."""
    failed = 0
    for size in sizes:
        proc = subprocess.run([sys.executable, "-m", "market.matching.bench", size, str(seed)],
                              capture_output=True, text=True)
        if proc.returncode:
            print(f"{size}: failed\n{proc.stderr}", file=sys.stderr)
            failed = 1
            continue
        r = json.loads(proc.stdout)
        print(f"{r['size']} (seed {r['seed']}): {r['needs']:,} needs, {r['providers']:,} providers, "
              f"{r['funders']:,} funders, {r['provider_edges']:,} provider edges, {r['funder_edges']:,} funder "
              f"edges; budgets {BUDGET_SHARE:.0%} of full funding")
        print(f"  time {r['solve_seconds']:.2f} s to solve (+{r['parse_seconds']:.2f} s to parse the JSON)   "
              f"peak memory {r['peak_mib']:,.0f} MiB (maxrss of the whole process)")
        print(f"  objective {r['objective']:,.2f}   upper bound {r['upper_bound']:,.2f}   gap {r['gap']:.3%}   "
              f"{r['assigned']:,} needs assigned   {r['budget_used']:.2%} of the budgets spent")
        if r["violations"]:
            failed = 1
            print("  INFEASIBLE: " + "; ".join(r["violations"]))
    return failed


if __name__ == "__main__":
    print(json.dumps(run_one(sys.argv[1], int(sys.argv[2]))))
