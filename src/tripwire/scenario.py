"""The scenario schema: every model input, typed, with its unit in its name or description.

Only :mod:`tripwire.loader` reads scenario files; this module only declares what a valid
scenario is. Times are in hours unless a field name says days. Troop numbers are people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tripwire.distributions import Distribution, Fixed
from tripwire.names import check_name

COUNTRIES: tuple[str, ...] = ("estonia", "latvia", "lithuania")
Country = Literal["estonia", "latvia", "lithuania"]
Mode = Literal["rail", "road", "sea", "air"]
UnitType = Literal["light", "motorised", "mechanised", "armoured", "fires"]
UNIT_TYPES: tuple[str, ...] = ("light", "motorised", "mechanised", "armoured", "fires")
Lift = Literal["heavy", "fly_in"]


def _mix(value: str | dict[str, float]) -> str | dict[str, float]:
    if isinstance(value, dict):
        if not value:
            raise ValueError("a mix of types needs at least one type")
        if any(v < 0 for v in value.values()) or abs(sum(value.values()) - 1) > 1e-6:
            raise ValueError(
                f"the shares of a mix of types must be non-negative and sum to 1, not "
                f"{sum(value.values()):g}"
            )
    return value


ForceType = Annotated[UnitType | dict[UnitType, float], AfterValidator(_mix)]
"""A force's type: one type, or a mix of types by share of its troops (shares sum to 1)."""


def _non_negative(d: Distribution) -> Distribution:
    if d.low < 0:
        raise ValueError(f"this quantity cannot be negative, but the distribution reaches {d.low}")
    return d


def _positive(d: Distribution) -> Distribution:
    if d.low <= 0:
        raise ValueError(f"this quantity must be positive, but the distribution reaches {d.low}")
    return d


def _fraction(d: Distribution) -> Distribution:
    lo = d.low
    hi = getattr(d, "high", None)
    if hi is None and d.kind == "choice":  # type: ignore[attr-defined]
        hi = max(d.values)  # type: ignore[attr-defined]
    if hi is None and d.kind == "fixed":  # type: ignore[attr-defined]
        hi = d.value  # type: ignore[attr-defined]
    if lo < 0 or hi is None or hi > 1:
        raise ValueError("a fraction must stay within [0, 1]; use uniform, triangular or fixed")
    return d


NonNegative = Annotated[Distribution, AfterValidator(_non_negative)]
Positive = Annotated[Distribution, AfterValidator(_positive)]
Fraction = Annotated[Distribution, AfterValidator(_fraction)]

MAX_SEED = 2**63 - 1
"""The largest seed: results store seeds as 64-bit signed integers (Parquet int64)."""


def _seed(seed: int) -> int:
    if seed > MAX_SEED:
        raise ValueError(
            f"seed {seed} is above the largest seed, 2**63 - 1 = {MAX_SEED}: results store "
            "seeds as 64-bit integers"
        )
    return seed


MAX_DAYS = 3650
"""The longest time any input may give, days (ten years); ``MAX_HOURS`` in hours."""
MAX_HOURS = 24 * MAX_DAYS
_WHY = (
    "tripwire models crises of days to months; a longer time is a slip of unit or digits, "
    "and would make the run's time grids unbounded or overflow its arithmetic"
)


def _time_limit(limit: float, unit: str) -> Callable[[Any], Any]:
    """A check that a time (a number or a distribution, signed) stays within +-``limit``."""

    def check(value: Any) -> Any:
        lo, hi = (value, value) if isinstance(value, int | float) else value.extremes()
        if not -limit <= lo <= hi <= limit:  # false for NaN and infinities too
            worst = hi if not -limit <= hi <= limit else lo
            fixed = isinstance(value, int | float) or getattr(value, "kind", "") == "fixed"
            reach = "" if fixed else "the distribution reaches "
            raise ValueError(
                f"{reach}{worst:g} {unit}, beyond the limit of {limit:,g} {unit} (10 years) "
                f"on any time: {_WHY}"
            )
        return value

    return check


Hours = Annotated[Distribution, AfterValidator(_time_limit(MAX_HOURS, "h"))]
"""A time in hours, possibly negative (before the attack), within +-``MAX_HOURS``."""
NonNegativeHours = Annotated[NonNegative, AfterValidator(_time_limit(MAX_HOURS, "h"))]
PositiveHours = Annotated[Positive, AfterValidator(_time_limit(MAX_HOURS, "h"))]
NonNegativeDays = Annotated[NonNegative, AfterValidator(_time_limit(MAX_DAYS, "days"))]
HoursValue = Annotated[float, AfterValidator(_time_limit(MAX_HOURS, "h"))]
DaysValue = Annotated[float, AfterValidator(_time_limit(MAX_DAYS, "days"))]


class Model(BaseModel):
    """Base for every scenario block: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_default=True,
        allow_inf_nan=False,  # an infinite horizon or a NaN share is a mistake, not a value
    )


class Source(Model):
    """Mixin field: a short note saying where a block's literal numbers come from."""

    source: str | None = Field(
        default=None, description="Where this block's literal values come from (citation)."
    )


class WarningClock(Source):
    """The clock before the attack. The attack starts at t = 0 h."""

    days: NonNegativeDays = Field(description="Strategic warning before the attack, days.")
    decision_delay_hours: NonNegativeHours = Field(
        description="Political decision delay after warning, hours. Readiness clocks start then."
    )
    peacetime_clearance_hours: NonNegativeHours = Field(
        default=Fixed(value=0.0),
        description="Before the attack, movement across borders waits this long after the "
        "decision for diplomatic clearance; at the attack the wait ends (Article 5), hours.",
    )


class CountrySpec(Source):
    """One Baltic state: where reinforcements arrive, what it must hold, the threat clock."""

    node: str = Field(description="Network node where forces for this country arrive.")
    host_nation_troops: NonNegative = Field(
        default=Fixed(value=0.0), description="Host-nation troops, people."
    )
    host_nation_effectiveness: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of host-nation troops counted against the "
        "threat (conscripts, reserves and light forces count for less), fraction.",
    )
    threat_troops: NonNegative | None = Field(
        default=None, description="Adversary troops committed against this country, people."
    )
    force_ratio: float = Field(
        default=3.0, gt=0, description="Attacker:defender ratio the defence must deny (3:1 rule)."
    )
    required_troops: NonNegative | None = Field(
        default=None, description="NATO troops needed to hold, people (overrides the threat rule)."
    )
    fait_accompli_unopposed_hours: PositiveHours | None = Field(
        default=None,
        description="Hours from attack start to a fait accompli against a negligible defence "
        "(the adversary clock; needed with `adversary: clock`).",
    )
    threat_type: ForceType | None = Field(
        default=None,
        description="Type of the threat force, or a mix by share (needed with combat power "
        "or the race).",
    )
    host_nation_type: ForceType | None = Field(
        default=None,
        description="Type of the host-nation forces, or a mix by share (needed with combat "
        "power or the race when host_nation_troops is given).",
    )
    axis_km: float | None = Field(
        default=None,
        gt=0,
        description="Distance the attacker must advance to reach the capital, km (the race).",
    )
    defence_delay_factor: float = Field(
        default=1.0,
        ge=0,
        description="Fait-accompli time grows by this factor times the "
        "defender:threat ratio at attack start (see docs/model.md), dimensionless.",
    )
    reception_hours: NonNegativeHours = Field(
        description="Reception, staging and integration after arrival, hours per unit."
    )
    reception_capacity_units: int | None = Field(
        default=None, ge=1, description="Units received at once (null: unlimited)."
    )

    @model_validator(mode="after")
    def _one_requirement(self) -> CountrySpec:
        if (self.threat_troops is None) == (self.required_troops is None):
            raise ValueError(
                "give exactly one of threat_troops (with force_ratio) or required_troops"
            )
        return self


class Countries(Model):
    estonia: CountrySpec
    latvia: CountrySpec
    lithuania: CountrySpec

    def items(self) -> list[tuple[str, CountrySpec]]:
        return [(c, getattr(self, c)) for c in COUNTRIES]


class Rotation(Model):
    """A rotational force's cycle. A handover in progress at attack start leaves it weaker."""

    cycle_days: DaysValue = Field(gt=0, description="Length of one rotation, days.")
    handover_days: DaysValue = Field(ge=0, description="Handover window at each rotation, days.")
    handover_fraction: float = Field(
        ge=0, le=1, description="Share of the force available during a handover, fraction."
    )

    @model_validator(mode="after")
    def _window(self) -> Rotation:
        if self.handover_days > self.cycle_days:
            raise ValueError("handover_days must not exceed cycle_days")
        return self


class Fielding(Model):
    """A forward force ramping in linearly from start_date to full_date (plus a delay)."""

    start_date: dt.date = Field(description="Date the ramp starts (initial_troops in place).")
    full_date: dt.date = Field(description="Planned date of full strength.")
    initial_troops: float = Field(ge=0, description="Troops in place at start_date, people.")
    delay_days: NonNegativeDays = Field(
        default=Fixed(value=0.0), description="Slip of full_date, days."
    )

    @model_validator(mode="after")
    def _dates(self) -> Fielding:
        if self.full_date <= self.start_date:
            raise ValueError("full_date must be after start_date")
        return self


class InPlace(Source):
    """NATO forces stationed in a country before the crisis."""

    name: str
    country: Country
    troops: float = Field(ge=0, description="Troops at full strength, people.")
    type: ForceType | None = Field(
        default=None, description="Unit type, or a mix by share (needed with combat power)."
    )
    kind: Literal["rotational", "forward", "permanent"]
    availability: Fraction = Field(
        default=Fixed(value=1.0), description="Share combat-ready, fraction."
    )
    rotation: Rotation | None = None
    fielding: Fielding | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> InPlace:
        if self.kind == "rotational" and self.rotation is None:
            raise ValueError("a rotational force needs a rotation block")
        if self.kind == "forward" and self.fielding is None:
            raise ValueError("a forward force needs a fielding block")
        if self.kind != "rotational" and self.rotation is not None:
            raise ValueError("rotation applies to rotational forces only")
        if self.kind != "forward" and self.fielding is not None:
            raise ValueError("fielding applies to forward forces only")
        if self.fielding is not None and self.fielding.initial_troops > self.troops:
            raise ValueError("fielding.initial_troops exceeds troops")
        return self


class Node(Source):
    """A place of the network. Its position and label are for figures only (the `map` plot
    and route labels): the model never reads them, so they change no result."""

    kind: Literal["origin", "staging", "border", "port", "airfield", "country"]
    description: str | None = None
    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Short readable name for figures and route labels, e.g. 'Bremerhaven' "
        "(null: the description, else the id).",
    )
    lat_deg: float | None = Field(
        default=None,
        ge=-90,
        le=90,
        description="Latitude of the place (or of the point chosen for an area), WGS84, "
        "decimal degrees north (negative: south); set together with lon_deg.",
    )
    lon_deg: float | None = Field(
        default=None,
        ge=-180,
        le=180,
        description="Longitude of the place, WGS84, decimal degrees east (negative: west); "
        "set together with lat_deg.",
    )

    @model_validator(mode="after")
    def _position(self) -> Node:
        if (self.lat_deg is None) != (self.lon_deg is None):
            raise ValueError("lat_deg and lon_deg go together: give both or neither")
        return self


class Link(Source):
    """A transport link. Each load holds one of ``channels`` for its service time, then travels."""

    id: str
    from_: str = Field(alias="from")
    to: str
    mode: Mode
    transit_hours: NonNegativeHours = Field(description="Travel time of a load, hours.")
    service_hours: NonNegativeHours = Field(
        description="Time one load occupies a channel (loading, berth, gauge transfer), hours."
    )
    channels: int | None = Field(
        ge=1, description="Loads served at once: train paths, berths, aircraft (null: unlimited)."
    )
    items_per_load: float = Field(gt=0, description="Equipment items one load carries.")
    troops_per_load: float = Field(gt=0, description="Personnel one load carries, people.")
    corridor: bool = Field(default=False, description="Crosses the Suwalki Gap (can be cut).")
    offload_items_per_hour: Positive | None = Field(
        default=None,
        description="When set, each load also holds its channel for (its items / this rate) "
        "hours, drawn per load: a berth's time scales with what the ship carries, items per "
        "hour (null: service_hours alone).",
    )
    control: str | None = Field(
        default=None,
        description="Name of a movement-control point (key of the scenario's "
        "movement_control) that a formation passes before entering this link after the "
        "attack; null: none.",
    )

    @property
    def full_load_service_hours(self) -> float:
        """Planning figure for one full load's channel time: mean service plus
        items_per_load / mean offload rate (routing only; draws are per load)."""
        offload = (
            self.items_per_load / self.offload_items_per_hour.mean
            if self.offload_items_per_hour is not None
            else 0.0
        )
        return self.service_hours.mean + offload

    @property
    def expected_hours(self) -> float:
        """Expected hours for one full load to cross the link empty: the static routing
        weight (mean transit + :attr:`full_load_service_hours`). A hair above zero even for
        instant links, so routes never loop."""
        return self.transit_hours.mean + self.full_load_service_hours + 1e-6


class ControlPoint(Source):
    """Host-nation or transit-nation movement control after the attack (see docs/model.md)."""

    hours: NonNegativeHours = Field(
        description="Wait of one formation (or detachment) before it may enter a link that "
        "names this point, drawn per formation and link; applies only after attack start "
        "(before it, peacetime clearance covers the crossing), hours."
    )


class MarryUp(Source):
    """When a formation counts as combat-ready at its destination (docs/model.md)."""

    troops_share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Share of its troops that must have arrived at its destination, fraction.",
    )
    equipment_share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Share of its equipment items that must have arrived, fraction.",
    )
    integration_hours: NonNegativeHours = Field(
        default=Fixed(value=0.0),
        description="Time to marry troops to equipment that travelled apart (a formation "
        "with troops_modes) once both shares have arrived, hours; formations moving whole "
        "skip it.",
    )


class Denial(Source):
    """Air or sea arrivals denied or throttled for a while (drawn per replication)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="Label used in output columns.")
    links: list[str] = Field(
        min_length=1, description="Ids of capacity-limited links (airfields, berths) affected."
    )
    probability: float = Field(ge=0, le=1, description="Chance it happens, probability.")
    capacity_share: Fraction = Field(
        description="Share of each link's channels left while it lasts (0: closed), "
        "fraction; channels left = floor(channels x share)."
    )
    start_hours: Hours = Field(
        default=Fixed(value=0.0),
        description="Start relative to attack start, hours (negative: before; clamped to "
        "the warning).",
    )
    duration_hours: NonNegativeHours = Field(description="How long it lasts, hours.")


class Network(Model):
    nodes: dict[str, Node] = Field(min_length=1)
    links: list[Link] = Field(min_length=1)


class Suwalki(Source):
    """Closure of the corridor links by the adversary."""

    closure_probability: float = Field(ge=0, le=1, description="Chance the corridor is cut.")
    closure_hours: Hours = Field(
        description="Time of the cut relative to attack start, hours (negative: before)."
    )


class Prepositioned(Source):
    """Equipment sets stored at a node for fly-in units."""

    site: str
    sets: int = Field(ge=0)
    troops_per_set: float = Field(gt=0, description="Troops one set equips, people.")
    draw_hours: NonNegativeHours = Field(description="Time to draw and prepare a set, hours.")


class Unit(Source):
    """A named formation (``count`` identical copies)."""

    name: str
    troops: float = Field(gt=0, description="People.")
    type: UnitType
    origin: str
    destination: Country | None = Field(
        default=None,
        description="Country; null lets the theatre allocate it by priority fill (docs/model.md).",
    )
    readiness_hours: NonNegativeHours = Field(description="Notice to move after decision, hours.")
    lift: Lift = "heavy"
    troops_modes: list[Mode] | None = Field(
        default=None,
        description="Modes the troops travel by, apart from the equipment (which goes by "
        "rail, road or sea); the two marry up at the destination (marry_up). null: troops "
        "travel with their equipment.",
    )
    count: int = Field(default=1, ge=1)


class Tier(Source):
    name: str
    share: float = Field(gt=0, le=1, description="Share of the pool in this tier, fraction.")
    readiness_days: NonNegativeDays = Field(description="Notice to move after decision, days.")


class Pool(Source):
    """The NATO high-readiness pool; a share is earmarked for this theatre."""

    total_troops: float = Field(gt=0, description="People.")
    theatre_share: float = Field(ge=0, le=1, description="Share earmarked for the Baltics.")
    formation_troops: float = Field(gt=0, description="Size of one deployable formation, people.")
    type: UnitType
    origin: str
    lift: Lift = "heavy"
    troops_modes: list[Mode] | None = Field(
        default=None,
        description="Modes the troops travel by, apart from the equipment (see units); "
        "null: with their equipment.",
    )
    tiers: list[Tier] = Field(min_length=1)
    destinations: dict[Country, float] | None = Field(
        default=None,
        description="Shares of the pool's formations per country, planned in "
        "advance (used by allocation 'fixed'), fractions summing to 1.",
    )

    @model_validator(mode="after")
    def _shares(self) -> Pool:
        total = sum(t.share for t in self.tiers)
        if total > 1 + 1e-9:
            raise ValueError(f"tier shares add up to {total:.3f}, more than the whole pool")
        if self.destinations is not None:
            shares = self.destinations.values()
            if any(v < 0 for v in shares) or abs(sum(shares) - 1) > 1e-6:
                raise ValueError("pool.destinations shares must be non-negative and sum to 1")
        return self


class ItemsPerTroop(Source):
    """Equipment items (vehicles, containers) to move per soldier, by unit type."""

    light: float = Field(ge=0)
    motorised: float | None = Field(
        default=None, ge=0, description="Needed if a unit is motorised."
    )
    mechanised: float = Field(ge=0)
    armoured: float = Field(ge=0)
    fires: float | None = Field(default=None, ge=0, description="Needed if a unit is fires.")


class Weights(Source):
    """Combat power per troop of each type (the unit: a mechanised soldier = 1)."""

    light: float = Field(ge=0)
    motorised: float = Field(ge=0)
    mechanised: float = Field(ge=0)
    armoured: float = Field(ge=0)
    fires: float = Field(ge=0)


class Attrition(Source):
    """Lanchester's square law, its two coefficients set from daily loss rates."""

    law: Literal["square"] = "square"
    attacker_loss_per_day: float = Field(
        gt=0,
        lt=1,
        description="Attacker's fractional loss of combat power per day at the "
        "reference ratio, fraction per day.",
    )
    defender_loss_per_day: float = Field(
        gt=0,
        lt=1,
        description="Defender's fractional loss per day at the reference ratio, fraction per day.",
    )
    reference_ratio: float = Field(
        gt=0, description="Attacker:defender combat-power ratio at which both rates hold."
    )


class AdvanceBand(Source):
    """The attacker's rate of advance from a force ratio up to the next band's."""

    from_ratio: float = Field(
        gt=0, description="Attacker:defender combat-power ratio, lower bound."
    )
    km_per_day: Positive = Field(
        description="Rate of advance, km per day (drawn per replication and axis)."
    )


class Combat(Source):
    """Combat power and the race (docs/model.md, "Combat power" and "The combat race")."""

    weights: Weights
    attrition: Attrition
    advance: list[AdvanceBand] = Field(
        min_length=1,
        description="Rate of advance by force-ratio band, rising; below the first band the "
        "attacker is held.",
    )

    @model_validator(mode="after")
    def _rising(self) -> Combat:
        lows = [b.from_ratio for b in self.advance]
        if any(b <= a for a, b in zip(lows, lows[1:])):
            raise ValueError(f"advance bands must rise in from_ratio, got {lows}")
        for k in range(1, len(self.advance)):
            lo = self.advance[k].km_per_day.extremes()[0]
            hi = self.advance[k - 1].km_per_day.extremes()[1]
            if lo < hi:
                raise ValueError(
                    f"advance band {k} (from ratio {lows[k]:g}) can be slower ({lo:g} km/day) "
                    f"than the band below it ({hi:g} km/day): a higher ratio must never slow "
                    "the attacker (the race's monotone properties rest on it)"
                )
        return self

    def weight(self, kind: Any) -> float:
        """Combat power per troop of a type or a mix of types."""
        if isinstance(kind, str):
            return float(getattr(self.weights, kind))
        # in a fixed order (UNIT_TYPES), not the file's: the sum's rounding must not depend
        # on how a YAML writer ordered the keys (scenario.resolved.yaml sorts them)
        return float(sum(kind[k] * getattr(self.weights, k) for k in UNIT_TYPES if k in kind))


class Scenario(Source):
    """A complete posture scenario."""

    name: Annotated[str, AfterValidator(check_name)] = Field(
        description="Becomes this scenario's folder name in a result folder (tripwire.names)."
    )
    description: str = ""
    posture: str = Field(description="Posture label shown in comparisons.")
    scenario_date: dt.date = Field(description="Date of the crisis (drives forward fielding).")
    replications: int = Field(default=1000, ge=1)
    seed: Annotated[int, AfterValidator(_seed)] = Field(default=0, ge=0)
    horizon_days: DaysValue = Field(gt=0, description="Simulated time after attack start, days.")
    checkpoints_hours: list[float] = Field(
        default=[24, 72, 168, 720], description="Hours after attack start to report strength."
    )
    buildup_step_hours: HoursValue = Field(
        default=12,
        gt=0,
        description="Spacing, hours, of the grid (attack start to horizon) on which `simulate` "
        "records each country's combat-ready strength for the build-up plot.",
    )
    routing: Literal["congestion", "static"] = Field(
        default="congestion",
        description="How formations choose links: 'static' fastest path, or 'congestion' "
        "(fastest given the current backlog, one step ahead). See docs/model.md.",
    )
    allocation: Literal["need", "fixed"] = Field(
        default="need",
        description="'need': formations without a destination fill the countries' gaps in "
        "allocation_priority order; 'fixed': every formation has a destination planned in "
        "advance (units' destination, pool.destinations). See docs/model.md.",
    )
    allocation_priority: list[Country] = Field(
        default=["estonia", "latvia", "lithuania"],
        description="Order in which formations without a fixed destination fill the "
        "countries' gaps (priority fill, see docs/model.md).",
    )
    warning: WarningClock
    countries: Countries
    in_place: list[InPlace] = []
    network: Network
    suwalki: Suwalki
    prepositioned: list[Prepositioned] = []
    equipment_items_per_troop: ItemsPerTroop
    pool: Pool | None = None
    units: list[Unit] = []
    movement_control: dict[str, ControlPoint] = Field(
        default={},
        description="Movement-control points after the attack, by name; links refer to "
        "them with `control:`.",
    )
    marry_up: MarryUp = Field(default=MarryUp(), description="When a formation is combat-ready.")
    wartime_factor: float = Field(
        default=1.0,
        gt=0,
        description="Multiplies every load's service and transit time on a link entered at or "
        "after attack start: below 1, wartime priority makes moves faster than the peacetime "
        "records the network is calibrated to; above 1, damage and sabotage make them slower, "
        "dimensionless.",
    )
    denial: list[Denial] = Field(
        default=[], description="Air and sea arrivals that can be denied or throttled."
    )
    requirement: Literal["headcount", "combat_power"] = Field(
        default="headcount",
        description="'headcount': required NATO troops = threat troops / force_ratio - host "
        "troops x effectiveness; 'combat_power': the same rule on combat power (troops x "
        "the type's weight, `combat.weights`). See docs/model.md.",
    )
    adversary: Literal["clock", "race"] = Field(
        default="clock",
        description="'clock': the fait accompli is an input (fait_accompli_unopposed_hours, "
        "lengthened by the defence in place); 'race': it is the outcome of the combat race "
        "on each country's axis (`combat`, `axis_km`). See docs/model.md.",
    )
    combat: Combat | None = Field(
        default=None, description="Combat power weights, attrition and advance (the race)."
    )

    @model_validator(mode="after")
    def _allocation(self) -> Scenario:
        if sorted(self.allocation_priority) != sorted(COUNTRIES):
            raise ValueError(
                "allocation_priority must list estonia, latvia and lithuania once each"
            )
        if self.allocation == "fixed":
            lost = [u.name for u in self.units if u.destination is None]
            if lost:
                raise ValueError(f"allocation 'fixed' needs a destination for units {lost}")
            if self.pool is not None and not self.pool.destinations:
                raise ValueError("allocation 'fixed' needs pool.destinations (shares per country)")
        return self

    @model_validator(mode="after")
    def _combat(self) -> Scenario:
        power = self.requirement == "combat_power" or self.adversary == "race"
        missing: list[str] = []
        if power:
            if self.combat is None:
                missing.append("combat (weights, attrition, advance)")
            for c, spec in self.countries.items():
                if spec.threat_troops is None:
                    missing.append(f"countries.{c}.threat_troops (combat power needs a threat)")
                if spec.threat_type is None:
                    missing.append(f"countries.{c}.threat_type")
                if spec.host_nation_type is None:
                    missing.append(f"countries.{c}.host_nation_type")
            missing += [f"type of in_place '{ip.name}'" for ip in self.in_place if ip.type is None]
        if self.adversary == "race":
            missing += [
                f"countries.{c}.axis_km" for c, sp in self.countries.items() if sp.axis_km is None
            ]
        else:
            missing += [
                f"countries.{c}.fait_accompli_unopposed_hours"
                for c, sp in self.countries.items()
                if sp.fait_accompli_unopposed_hours is None
            ]
        if missing:
            raise ValueError(
                f"requirement '{self.requirement}' with adversary '{self.adversary}' needs: "
                + "; ".join(missing)
            )
        items = self.equipment_items_per_troop
        moving = [u.type for u in self.units] + ([self.pool.type] if self.pool else [])
        lacking = sorted({t for t in moving if getattr(items, t) is None})
        if lacking:
            raise ValueError(
                "equipment_items_per_troop needs a value for "
                + ", ".join(lacking)
                + " (a unit or the pool is of that type)"
            )
        return self

    @property
    def horizon_hours(self) -> float:
        return self.horizon_days * 24.0
