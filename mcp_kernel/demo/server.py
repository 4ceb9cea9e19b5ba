"""The bundled demo MCP server: a synthetic sales dataset (3,000 orders in 2025) behind analyst tools.

Every tool has a title, parameter descriptions, an output schema and annotations. ``forecast_revenue``
is slow on purpose and reports progress; ``send_report`` always answers with an error result, so that
error handling can be shown without breaking anything. ``aggregate_sales`` has an MCP App view, a sales
dashboard (``ui://demo/dashboard.html``, built from js/dashboard/ by ``npm run build:dashboard``).

>>> server = build_server()
>>> server.name
'demo'
"""

from __future__ import annotations

import csv
import functools
import statistics
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Literal, get_args

import anyio
from mcp.server.apps import APP_MIME_TYPE
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import Completion, CompletionArgument, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DASHBOARD_URI", "build_server", "dashboard_html", "orders"]

Region = Literal["EU", "NA", "APAC", "LATAM", "MEA"]
Category = Literal["Software", "Cloud", "Services"]

INSTRUCTIONS = """Synthetic sales data for 2025: orders with customers, regions, products and amounts.
Start with list_regions or list_products to learn the vocabulary, then query_sales with filters.
Use aggregate_sales for totals instead of fetching every row. All data is fictional."""

DASHBOARD_URI = "ui://demo/dashboard.html"

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


class SaleRow(BaseModel):
    """One order of the dataset, as the tools return it."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    date: str = Field(description="Order date, ISO 8601 (YYYY-MM-DD).")
    customer_id: str
    customer_name: str
    email: str
    region: str
    country: str
    product: str
    category: str
    quantity: int
    unit_price: float
    amount: float = Field(description="quantity x unit_price, in EUR.")


@functools.cache
def orders() -> tuple[SaleRow, ...]:
    """Every order of the bundled dataset, read once."""
    text = resources.files("mcp_kernel.demo").joinpath("sales.csv").read_text(encoding="utf-8")
    return tuple(SaleRow.model_validate(row) for row in csv.DictReader(text.splitlines()))


@functools.cache
def dashboard_html() -> str:
    """The dashboard view's HTML (one self-contained file: its script inline, no network)."""
    return resources.files("mcp_kernel.demo").joinpath("dashboard.html").read_text(encoding="utf-8")


class SalesPage(BaseModel):
    rows: list[SaleRow]
    total_matches: int = Field(description="How many orders matched before the limit was applied.")
    total_amount: float = Field(description="Sum of amount over every matching order, not just this page.")


class RegionSummary(BaseModel):
    region: str
    countries: list[str]
    orders: int
    revenue: float


class Regions(BaseModel):
    regions: list[RegionSummary]


class Product(BaseModel):
    product: str
    category: str
    list_price: float = Field(description="Median unit price seen in the data.")
    orders: int


class Products(BaseModel):
    products: list[Product]


class Customer(BaseModel):
    customer_id: str
    name: str
    email: str
    phone: str
    region: str
    country: str
    orders: int
    revenue: float
    first_order: str
    last_order: str
    favourite_product: str


class Group(BaseModel):
    key: str
    value: float


class Aggregate(BaseModel):
    group_by: str
    metric: str
    groups: list[Group]


class TopCustomer(BaseModel):
    customer_id: str
    name: str
    region: str
    revenue: float
    orders: int


class TopCustomers(BaseModel):
    customers: list[TopCustomer]


class MonthForecast(BaseModel):
    month: str = Field(description="YYYY-MM")
    revenue: float


class Forecast(BaseModel):
    method: str
    history_months: int
    forecast: list[MonthForecast]


class Receipt(BaseModel):
    sent: bool


# Fictional numbers in ranges kept for drama and tests, one format per region (what PII tokenizing meets).
_PHONE_FORMATS = {
    "EU": "+44 20 7946 0{:03d}",
    "NA": "+1 415-555-0{:03d}",
    "APAC": "+61 2 5550 {:04d}",
    "LATAM": "+55 11 2345-{:04d}",
    "MEA": "+27 21 555 0{:03d}",
}


def phone_of(customer_id: str, region: str) -> str:
    """The (fictional) phone number of a customer."""
    return _PHONE_FORMATS.get(region, "+44 20 7946 0{:03d}").format(int(customer_id[1:]) % 1000)


def _filter(
    region: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    product: str | None = None,
    category: str | None = None,
    min_amount: float | None = None,
    customer_id: str | None = None,
) -> list[SaleRow]:
    out = []
    for o in orders():
        if region and o.region != region:
            continue
        if start_date and o.date < start_date:
            continue
        if end_date and o.date > end_date:
            continue
        if product and o.product.lower() != product.lower():
            continue
        if category and o.category != category:
            continue
        if min_amount is not None and o.amount < min_amount:
            continue
        if customer_id and o.customer_id != customer_id:
            continue
        out.append(o)
    return out


def build_server() -> MCPServer:
    """The demo server with all its tools registered."""
    # The data is bundled and never changes: every list and read is the same for an hour, for anyone.
    stable = CacheHint(ttl_ms=3_600_000, scope="public")
    server = MCPServer(
        name="demo",
        title="Demo sales data",
        version="1.0.0",
        instructions=INSTRUCTIONS,
        cache_hints=dict.fromkeys(get_args(CacheableMethod), stable),
    )

    @server.tool(title="List regions", annotations=READ_ONLY)
    def list_regions() -> Regions:
        """List the sales regions with their countries, order counts and revenue (EUR)."""
        by_region: dict[str, list[SaleRow]] = defaultdict(list)
        for o in orders():
            by_region[o.region].append(o)
        return Regions(
            regions=[
                RegionSummary(
                    region=r,
                    countries=sorted({o.country for o in rows}),
                    orders=len(rows),
                    revenue=round(sum(o.amount for o in rows), 2),
                )
                for r, rows in sorted(by_region.items())
            ]
        )

    @server.tool(title="List products", annotations=READ_ONLY)
    def list_products(
        category: Annotated[Category | None, Field(description="Only products of this category.")] = None,
    ) -> Products:
        """List the products sold, with their category, median unit price and number of orders."""
        by_product: dict[str, list[SaleRow]] = defaultdict(list)
        for o in orders():
            if category is None or o.category == category:
                by_product[o.product].append(o)
        return Products(
            products=[
                Product(
                    product=p,
                    category=rows[0].category,
                    list_price=round(statistics.median(o.unit_price for o in rows), 2),
                    orders=len(rows),
                )
                for p, rows in sorted(by_product.items())
            ]
        )

    @server.tool(title="Query sales", annotations=READ_ONLY)
    def query_sales(
        region: Annotated[Region | None, Field(description="Only orders from this region.")] = None,
        start_date: Annotated[
            str | None, Field(description="First day to include, YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$")
        ] = None,
        end_date: Annotated[
            str | None, Field(description="Last day to include, YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$")
        ] = None,
        product: Annotated[str | None, Field(description="Exact product name (see list_products).")] = None,
        category: Annotated[Category | None, Field(description="Only this product category.")] = None,
        min_amount: Annotated[
            float | None, Field(description="Only orders of at least this amount (EUR).", ge=0)
        ] = None,
        limit: Annotated[
            int, Field(description="Most rows to return (the whole dataset is 3,000).", ge=1, le=5000)
        ] = 100,
    ) -> SalesPage:
        """Query individual orders with optional filters, oldest first.

        Returns up to `limit` rows plus the number and total amount of every matching order. Each row
        carries the customer's name and e-mail address, so print aggregates rather than raw rows.
        """
        matches = _filter(region, start_date, end_date, product, category, min_amount)
        return SalesPage(
            rows=list(matches[:limit]),
            total_matches=len(matches),
            total_amount=round(sum(o.amount for o in matches), 2),
        )

    @server.tool(title="Get customer", annotations=READ_ONLY)
    def get_customer(
        customer_id: Annotated[str, Field(description="Customer id such as C0042.")],
    ) -> Customer:
        """Get one customer's profile with order count, revenue, first/last order and favourite product."""
        rows = _filter(customer_id=customer_id)
        if not rows:
            raise ToolError(f"No customer with id {customer_id!r}; ids look like C0001 to C0240.")
        counts: dict[str, int] = defaultdict(int)
        for o in rows:
            counts[o.product] += o.quantity
        first = rows[0]
        return Customer(
            customer_id=customer_id,
            name=first.customer_name,
            email=first.email,
            phone=phone_of(customer_id, first.region),
            region=first.region,
            country=first.country,
            orders=len(rows),
            revenue=round(sum(o.amount for o in rows), 2),
            first_order=min(o.date for o in rows),
            last_order=max(o.date for o in rows),
            favourite_product=max(sorted(counts), key=counts.__getitem__),
        )

    # Registered with server.tool, not mcp.server.apps.Apps: an Apps extension's tools are added when the
    # server is built, before these, which would reorder tools/list (and every listing made from it).
    @server.tool(title="Aggregate sales", annotations=READ_ONLY, meta={"ui": {"resourceUri": DASHBOARD_URI}})
    def aggregate_sales(
        group_by: Annotated[
            Literal["region", "country", "product", "category", "month", "customer"],
            Field(description="What to group orders by."),
        ],
        metric: Annotated[
            Literal["sum", "count", "avg"], Field(description="sum or avg of amount, or count of orders.")
        ] = "sum",
        region: Annotated[Region | None, Field(description="Only orders from this region.")] = None,
    ) -> Aggregate:
        """Aggregate order amounts by region, country, product, category, month or customer."""
        groups: dict[str, list[float]] = defaultdict(list)
        for o in _filter(region=region):
            key = {"month": o.date[:7], "customer": o.customer_id}.get(group_by) or getattr(o, group_by)
            groups[key].append(o.amount)
        computes: dict[str, Callable[[list[float]], float]] = {
            "sum": sum,
            "count": len,
            "avg": statistics.fmean,
        }
        compute = computes[metric]
        return Aggregate(
            group_by=group_by,
            metric=metric,
            groups=[Group(key=k, value=round(float(compute(v)), 2)) for k, v in sorted(groups.items())],
        )

    @server.tool(title="Top customers", annotations=READ_ONLY)
    def top_customers(
        n: Annotated[int, Field(description="How many customers.", ge=1, le=100)] = 10,
        region: Annotated[Region | None, Field(description="Only customers in this region.")] = None,
    ) -> TopCustomers:
        """The customers with the highest revenue, best first."""
        revenue: dict[str, list[SaleRow]] = defaultdict(list)
        for o in _filter(region=region):
            revenue[o.customer_id].append(o)
        ranked = sorted(revenue.items(), key=lambda kv: (-sum(o.amount for o in kv[1]), kv[0]))[:n]
        return TopCustomers(
            customers=[
                TopCustomer(
                    customer_id=cid,
                    name=rows[0].customer_name,
                    region=rows[0].region,
                    revenue=round(sum(o.amount for o in rows), 2),
                    orders=len(rows),
                )
                for cid, rows in ranked
            ]
        )

    @server.tool(title="Forecast revenue", annotations=READ_ONLY)
    async def forecast_revenue(
        ctx: Context,
        months: Annotated[int, Field(description="Months to forecast after December 2025.", ge=1, le=12)] = 3,
        region: Annotated[Region | None, Field(description="Only this region.")] = None,
    ) -> Forecast:
        """Forecast monthly revenue with a linear trend. Slow (about 0.3 s per month); reports progress."""
        monthly: dict[str, float] = defaultdict(float)
        for o in _filter(region=region):
            monthly[o.date[:7]] += o.amount
        history = [monthly[k] for k in sorted(monthly)]
        slope = statistics.linear_regression(range(len(history)), history).slope if len(history) > 1 else 0.0
        out = []
        for i in range(months):
            await anyio.sleep(0.3)
            out.append(
                MonthForecast(month=f"2026-{i + 1:02d}", revenue=round(history[-1] + slope * (i + 1), 2))
            )
            await ctx.report_progress(i + 1, months, f"month {i + 1} of {months}")
        return Forecast(method="linear trend over 2025", history_months=len(history), forecast=out)

    @server.tool(
        title="Send report by e-mail",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        ),
    )
    def send_report(
        email: Annotated[str, Field(description="Recipient address.")],
        subject: Annotated[str, Field(description="Subject line.")] = "Sales report",
    ) -> Receipt:
        """Send a sales report by e-mail. Disabled in the demo: it always answers with an error result."""
        raise ToolError(f"Outbound e-mail is disabled in the demo server; nothing was sent to {email}.")

    _add_resources_and_prompts(server)
    return server


SCHEMA_TEXT = """# Demo sales data: one row per order (3,000 orders in 2025, all fictional)

order_id       O00001 ... O03000
date           order date, YYYY-MM-DD
customer_id    C0001 ... C0240 (get_customer for a profile)
customer_name  the customer's company
email          the customer's contact address
region         EU, NA, APAC, LATAM, MEA (list_regions)
country        the customer's country
product        what was sold (list_products)
category       Software, Cloud or Services
quantity       units ordered
unit_price     EUR per unit
amount         quantity x unit_price, EUR
"""


def _add_resources_and_prompts(server: MCPServer) -> None:
    """A schema document, a per-region summary template, the dashboard view and an analyst prompt: the rest
    of MCP, small."""

    @server.resource(
        "sales://schema", name="schema", title="Columns of the sales data", mime_type="text/markdown"
    )
    def schema() -> str:
        return SCHEMA_TEXT

    @server.resource(
        "sales://regions/{region}", name="region", title="One region's totals", mime_type="application/json"
    )
    def region_totals(region: str) -> dict[str, object]:
        rows = [o for o in orders() if o.region == region.upper()]
        if not rows:
            raise ToolError(f"No region {region!r}; regions are EU, NA, APAC, LATAM, MEA.")
        return {
            "region": region.upper(),
            "orders": len(rows),
            "revenue": round(sum(o.amount for o in rows), 2),
        }

    # The MCP App view of aggregate_sales. No _meta.ui.csp: without declared domains the host grants no
    # network, and the view needs none.
    @server.resource(
        DASHBOARD_URI,
        name="dashboard",
        title="Sales dashboard (MCP App view of aggregate_sales)",
        mime_type=APP_MIME_TYPE,
        meta={"ui": {"prefersBorder": True}},
    )
    def dashboard() -> str:
        return dashboard_html()

    @server.prompt(name="analyze_region", title="Analyse one region")
    def analyze_region(region: str, focus: str = "revenue") -> str:
        """Ask for an analysis of one region's sales."""
        return (
            f"Using the demo sales tools, analyse the {region} region with a focus on {focus}: first call "
            f"list_regions, then aggregate_sales grouped by month for region {region}, and summarise the trend "
            "in three sentences."
        )

    focuses = ("revenue", "orders", "customers", "products", "seasonality")

    @server.completion()
    async def suggest(ref: object, argument: CompletionArgument, context: object) -> Completion | None:
        """Suggest regions (the prompt's and the template's ``region``) and the prompt's ``focus``."""
        choices = {"region": get_args(Region), "focus": focuses}.get(argument.name)
        if choices is None:
            return None
        typed = argument.value.lower()
        return Completion(values=[c for c in choices if c.lower().startswith(typed)])
