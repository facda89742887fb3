"""`market bench matching`: a grid of generated docking instances, solved, with time, peak memory,
objective, bound, gap and where the bound lies against the exact LP optimum (+ above, - below: the
bound keeps limits the LP does not, see lagrange.py). Not a test: figures
for the record.

Each solve runs in its own process (`python -m market.matching.solver.bench solve SIZE CELL SEED`) so its
peak memory (the process's maximum resident set size, from getrusage) is that of one solve with
nothing else left over, interpreter, numpy and HiGHS included.

The grid. Every cell is a family of instances, seeded and deterministic; each axis stresses a
different part of the solver, and the cells vary one axis at a time around `base`, plus a few that
combine the hardest settings (`GRID`). Sizes: a district fair (500 needs, 150 providers, 200
funders) and a city round (20,000 needs, 5,000 providers, 2,000 funders); every need has 20
provider edges and 5 funder edges. Needs have a typical price (log-uniform ¥200 to ¥20,000), each
provider quotes 75-135 % of it.

* values: `score` — fit scores 0-100 (the provider's quality plus noise), unrelated to price, as
  rolling docking feeds the solver; `price` — proportional to the quoted price (times quality).
* affinity: a funder's value per fen is `affinity` times the mean provider value times 0.2-1.
  At 10⁻⁶ paying a typical need's shortfall is worth about a tenth of a provider's value (money
  nearly free: budgets decide alone); at 10 money outweighs every value by far.
* budget: funders' budgets add up to this share of full funding (every need's mean shortfall).
* gov: government money covers 20-100 % of the typical price of `all` needs, of `none`, or
  (`mixed`) of 70 % of them, the other 30 % having none.
* edges: `random` — providers and funders drawn at random for each need (no locality to prune by);
  `local` — a run of neighbouring provider and funder numbers (providers near a need serve it).
* capacity: each provider takes 1 to this many needs (uniformly).

`product` is what the product's own rolling docking feeds the solver (measured on the generated
city's run: `market bench docking`), a family the axes above do not make: values are whole fit
scores 35-60, a handful of distinct ones a need, so many edges tie; each need's providers are the
ones it scores best, so providers of good quality are on many needs' lists (`popular` edges: drawn
in proportion to a weight rising steeply with quality) and compete for places, which number about
as many as needs (capacities 3-5); government money covers 70-170 % of the typical price (`most`),
so about a third of edges have a shortfall; budgets are three times full funding, over 10 funders
a need, and money is worth about a twentieth of a value (affinity 10⁻⁷).

`classic` is the generator the benchmark had before the grid (values proportional to price,
local edges, budgets at half), kept as one more family.

The exact LP optimum of each instance (HiGHS's interior point method on the whole LP, once) is
kept in `bench/matching_lp.json` keyed by size, cell and seed, and computed when missing.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import msgspec
import numpy as np

from market.matching.solver.models import Funder, FunderEdge, Instance, Need, Provider, ProviderEdge, Result
from market.matching.solver.solve import parse, solve

# needs, providers, funders
SIZES = {"district": (500, 150, 200), "city": (20_000, 5_000, 2_000)}
SEEDS = {"district": (1, 2, 3), "city": (1, 2)}
PROVIDER_EDGES, FUNDER_EDGES = 20, 5
REFERENCE = Path(__file__).resolve().parents[3] / "bench" / "matching_lp.json"


@dataclass(frozen=True)
class Family:
    values: str = "score"  # score | price | fit
    affinity: float = 1e-6  # value per fen, relative to the mean provider value
    budget: float = 0.45  # share of full funding
    gov: str = "mixed"  # all | none | mixed | most
    edges: str = "random"  # random | local | popular
    capacity: int = 5  # largest capacity; capacities are min_capacity..capacity
    min_capacity: int = 1
    funder_edges: int = FUNDER_EDGES


BASE = Family()
HARD_SCARCE = Family(budget=0.2, gov="none", capacity=1)
GRID: dict[str, Family | None] = {
    "base": BASE,
    "values-price": replace(BASE, values="price"),
    "affinity-1e-4": replace(BASE, affinity=1e-4),
    "affinity-1e-2": replace(BASE, affinity=1e-2),
    "affinity-1": replace(BASE, affinity=1.0),
    "affinity-10": replace(BASE, affinity=10.0),
    "budget-20": replace(BASE, budget=0.2),
    "budget-90": replace(BASE, budget=0.9),
    "gov-all": replace(BASE, gov="all"),
    "gov-none": replace(BASE, gov="none"),
    "edges-local": replace(BASE, edges="local"),
    "capacity-1": replace(BASE, capacity=1),
    "capacity-10": replace(BASE, capacity=10),
    # the hardest settings together
    "hard-scarce": HARD_SCARCE,
    "hard-scarce-price": replace(HARD_SCARCE, values="price"),
    "hard-money": replace(BASE, affinity=10.0, gov="none", capacity=10),
    "hard-places": replace(BASE, budget=0.9, gov="all", capacity=1),
    "hard-mixed": replace(BASE, affinity=1e-2, budget=0.2, capacity=1),
    "classic": None,
    "product": Family(values="fit", affinity=1e-7, budget=3.0, gov="most", edges="popular", capacity=5,
                      min_capacity=3, funder_edges=10),
}
CITY_CELLS = ("base", "values-price", "affinity-10", "budget-20", "edges-local", "capacity-1",
              "hard-scarce", "hard-money", "product")


def _neighbours(rng: np.random.Generator, rows: int, pool: int, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, low..high distinct members of range(pool) a few steps apart from a random start
    (steps are short enough that a row never wraps round onto itself)."""
    degree = rng.integers(low, high + 1, rows)
    steps = rng.integers(1, max(1, pool // high) + 1, (rows, high))
    steps[:, 0] = rng.integers(0, pool, rows)
    members = np.cumsum(steps, axis=1) % pool
    r, c = np.nonzero(np.arange(high)[None, :] < degree[:, None])
    return r, members[r, c]


def _random(rng: np.random.Generator, rows: int, pool: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, `degree` distinct members of range(pool) drawn at random (pool > 2 * degree)."""
    draws = rng.integers(0, pool, (rows, 4 * degree))
    order = np.argsort(draws, axis=1, kind="stable")
    sorted_ = np.take_along_axis(draws, order, axis=1)
    first = np.ones_like(draws, dtype=bool)
    np.put_along_axis(first, order[:, 1:], sorted_[:, 1:] != sorted_[:, :-1], axis=1)
    rank = np.cumsum(first, axis=1)  # a member's place among the row's distinct draws, in draw order
    r, c = np.nonzero(first & (rank <= degree))
    return r, draws[r, c]


def _popular(rng: np.random.Generator, rows: int, weight: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, `degree` distinct members drawn in proportion to `weight` (without replacement:
    the largest of log-weight plus Gumbel noise), a thousand rows at a time."""
    log_weight = np.log(weight)
    rs, ms = [], []
    for start in range(0, rows, 1000):
        n = min(1000, rows - start)
        keys = log_weight[None, :] + rng.gumbel(size=(n, len(weight)))
        top = np.argpartition(-keys, degree - 1, axis=1)[:, :degree]
        rs.append(np.repeat(start + np.arange(n), degree))
        ms.append(np.sort(top, axis=1).ravel())
    return np.concatenate(rs), np.concatenate(ms)


def generate(size: str, cell: str = "base", seed: int = 1) -> Instance:
    n_needs, n_providers, n_funders = SIZES[size]
    family = GRID[cell]
    if family is None:
        return generate_sized(n_needs, n_providers, n_funders, 6 if size == "district" else 7, seed)
    return generate_family(family, n_needs, n_providers, n_funders, seed)


def generate_family(family: Family, n_needs: int, n_providers: int, n_funders: int, seed: int = 1) -> Instance:
    """An instance of `family` in any size (providers > 40, funders > 10)."""
    rng = np.random.default_rng(seed)
    typical = np.round(np.exp(rng.uniform(np.log(2e4), np.log(2e6), n_needs)), -2)
    gov = np.round(typical * rng.uniform(0.2, 1.0, n_needs), -2).astype(np.int64)
    if family.gov == "none":
        gov[:] = 0
    elif family.gov == "mixed":
        gov[rng.random(n_needs) < 0.3] = 0
    elif family.gov == "most":  # drawn again, after the draw every family makes
        gov = np.round(typical * rng.uniform(0.7, 1.7, n_needs), -2).astype(np.int64)
    capacity = rng.integers(family.min_capacity, family.capacity + 1, n_providers)
    edges = _random if family.edges != "local" else (lambda g, r, p, d: _neighbours(g, r, p, d, d))
    # Fit scores, and the popularity that follows them (drawn only for these families, so the others'
    # instances stay as they were).
    fit = rng.uniform(40, 52, n_providers) if family.values == "fit" or family.edges == "popular" else None
    if family.edges == "popular":
        assert fit is not None  # drawn above for every popular family
        pn, pp = _popular(rng, n_needs, np.exp((fit - 40) / 3), PROVIDER_EDGES)
    else:
        pn, pp = edges(rng, n_needs, n_providers, PROVIDER_EDGES)
    price = np.round(typical[pn] * rng.uniform(0.75, 1.35, pn.size), -2).astype(np.int64)
    if family.values == "score":
        quality = rng.uniform(30, 90, n_providers)
        value = np.round(np.clip(quality[pp] + rng.normal(0, 10, pn.size), 0, 100), 1)
    elif family.values == "fit":
        assert fit is not None  # and for every family valued by fit
        value = np.clip(np.round(fit[pp] + rng.normal(0, 1.5, pn.size)), 35, 60)
    else:
        quality = rng.uniform(0.8, 1.4, n_providers)
        value = np.round(price / 100 * quality[pp] * rng.uniform(0.9, 1.1, pn.size), 2)
    fn, ff = edges(rng, n_needs, n_funders, family.funder_edges)
    unit = family.affinity * float(value.mean())
    affinity = unit * rng.uniform(0.2, 1.0, fn.size)
    shortfall = np.maximum(0, price - gov[pn])
    full = float(np.sum(np.bincount(pn, shortfall, n_needs) / np.bincount(pn, minlength=n_needs)))
    weight = np.bincount(ff, minlength=n_funders) * rng.uniform(0.5, 1.5, n_funders)
    budget = np.floor(family.budget * full * weight / weight.sum()).astype(np.int64)
    return Instance(
        needs=[Need(i + 1, g) for i, g in enumerate(gov.tolist())],
        providers=[Provider(j + 1, c) for j, c in enumerate(capacity.tolist())],
        funders=[Funder(k + 1, b) for k, b in enumerate(budget.tolist())],
        provider_edges=[ProviderEdge(n + 1, p + 1, c, v) for n, p, c, v in
                        zip(pn.tolist(), pp.tolist(), price.tolist(), value.tolist())],
        funder_edges=[FunderEdge(n + 1, f + 1, a) for n, f, a in zip(fn.tolist(), ff.tolist(), affinity.tolist())],
    )


def generate_sized(n_needs: int, n_providers: int, n_funders: int, max_capacity: int, seed: int = 1) -> Instance:
    """An instance of the `classic` kind in any size (at least 25 providers and 6 funders): needs'
    government money covers 20-100 % of the typical price; each has 15-25 providers nearby valued by
    their quality times the typical price, and 4-6 funders with affinities 0.05-0.5 per fen;
    budgets add up to half of full funding."""
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
    budget = np.floor(0.5 * full * weight / weight.sum()).astype(np.int64)
    return Instance(
        needs=[Need(i + 1, g) for i, g in enumerate(gov.tolist())],
        providers=[Provider(j + 1, c) for j, c in enumerate(capacity.tolist())],
        funders=[Funder(k + 1, b) for k, b in enumerate(budget.tolist())],
        provider_edges=[ProviderEdge(n + 1, p + 1, c, v) for n, p, c, v in
                        zip(pn.tolist(), pp.tolist(), price.tolist(), value.tolist())],
        funder_edges=[FunderEdge(n + 1, f + 1, a) for n, f, a in zip(fn.tolist(), ff.tolist(), affinity.tolist())],
    )


def lp_optimum(instance: Instance) -> float:
    """The exact optimum of the instance's whole LP relaxation (HiGHS interior point, no pruning;
    crossover only where the interior point alone does not reach optimality)."""
    from market.matching.solver.highs import DockingModel
    from market.matching.solver.problem import index

    p = index(instance)
    model = DockingModel(p, np.arange(len(p.edge_need)), np.arange(len(p.fund_need)), p.capacity,
                         p.budget.astype(float), time.monotonic() + 3600, linking="none")
    model.h.setOptionValue("solver", "ipm")
    model.h.setOptionValue("run_crossover", "off")
    if not model.run():
        # Money worth far more than values (affinity 10) leaves the interior point short of
        # HiGHS's tolerances; crossover to a basis settles it.
        model.h.setOptionValue("run_crossover", "on")
        if not model.run():
            raise RuntimeError("the whole LP was not solved to optimality")
    return model.objective


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


def run_one(size: str, cell: str, seed: int) -> dict:
    """Generate, write and read back as JSON (the CLI's path), solve, check; the figures."""
    importlib.import_module("market.matching.solver.method")  # loaded before the clock starts: imports are not solving
    data = msgspec.json.encode(generate(size, cell, seed))
    started = time.perf_counter()
    instance = parse(data)
    parsed, cpu = time.perf_counter(), time.process_time()
    result = solve(instance)
    solved = time.perf_counter()
    return {
        "size": size, "cell": cell, "seed": seed,
        "parse_seconds": parsed - started, "solve_seconds": solved - parsed,
        "cpu_seconds": time.process_time() - cpu, "load": os.getloadavg()[0],
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "objective": result.objective, "upper_bound": result.upper_bound, "gap": result.gap,
        "assigned": len(result.assignments), "needs": len(instance.needs),
        "violations": violations(instance, result)[:5],
    }


def _key(size: str, cell: str, seed: int) -> str:
    return f"{size}/{cell}/{seed}"


def _references() -> dict[str, float]:
    return json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}


def reference(size: str, cell: str, seed: int) -> float:
    """The exact LP optimum, from the file or computed (in a child process) and added to it."""
    known = _references()
    key = _key(size, cell, seed)
    if key not in known:
        proc = subprocess.run([sys.executable, "-m", "market.matching.solver.bench", "lp", size, cell, str(seed)],
                              capture_output=True, text=True, check=True)
        known = _references()  # another run may have added entries meanwhile
        known[key] = float(proc.stdout)
        REFERENCE.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")
    return known[key]


def cells(size: str) -> tuple[str, ...]:
    return tuple(GRID) if size == "district" else CITY_CELLS


HEADER = ("size", "cell", "seed", "seconds", "cpu seconds", "load", "peak MiB", "objective", "bound", "gap",
          "bound vs LP")


def main(sizes: list[str], seed: int | None = None, only: list[str] | None = None, jobs: int = 1) -> int:
    """Every cell of the grid (or `only` these cells) for each size and seed, `jobs` solves at once,
    each in a child process; one tab-separated line of figures per solve, after a header line
    (seconds: wall clock of the solve; cpu seconds: its processor time; load: the one-minute load
    average when it ended, as other work on the machine slows the wall clock)."""
    runs = [(size, cell, s) for size in sizes for cell in cells(size) if not only or cell in only
            for s in ((seed,) if seed is not None else SEEDS[size])]
    for size, cell, s in runs:
        reference(size, cell, s)
    print("\t".join(HEADER))
    failed = 0
    for start in range(0, len(runs), jobs):
        batch = runs[start:start + jobs]
        procs = [subprocess.Popen([sys.executable, "-m", "market.matching.solver.bench", "solve", size, cell, str(s)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for size, cell, s in batch]
        for (size, cell, s), proc in zip(batch, procs):
            out, err = proc.communicate()
            if proc.returncode:
                print(f"{size} {cell} {s}: failed\n{err}", file=sys.stderr)
                failed = 1
                continue
            r = json.loads(out)
            lp = reference(size, cell, s)
            against = (r["upper_bound"] - lp) / abs(lp) if lp else 0.0
            print("\t".join([size, cell, str(s), f"{r['solve_seconds']:.2f}", f"{r['cpu_seconds']:.2f}",
                             f"{r['load']:.1f}", f"{r['peak_mib']:.0f}",
                             f"{r['objective']:.6g}", f"{r['upper_bound']:.6g}", f"{r['gap']:.3%}",
                             f"{against:+.3%}"]) + ("\tINFEASIBLE: " + "; ".join(r["violations"]) if r["violations"] else ""),
                  flush=True)
            failed |= bool(r["violations"])
    return failed


if __name__ == "__main__":
    what, size, cell, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if what == "lp":
        print(repr(lp_optimum(generate(size, cell, seed))))
    else:
        print(json.dumps(run_one(size, cell, seed)))
