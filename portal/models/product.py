"""The insurance product and its six service lines, held as data (SPEC §2)."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Product(db.Model):
    """A product definition: covered illnesses, countries and waiting period are per product."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: default waiting period for new policies, in calendar days
    waiting_days: Mapped[int] = mapped_column(default=90)
    covered_illnesses: Mapped[list] = mapped_column(db.JSON, default=list)
    #: countries served by the overseas lines
    countries: Mapped[list] = mapped_column(db.JSON, default=list)
    #: domestic second-opinion expert cities
    expert_cities: Mapped[list] = mapped_column(db.JSON, default=list)
    #: while a case waits on the insured: remind after these many working days (e.g. [3, 7]) ...
    reminder_days: Mapped[list] = mapped_column(db.JSON, default=lambda: [3, 7])
    #: ... and after this many alert the coordinator to terminate with materials_missing
    materials_limit_days: Mapped[int] = mapped_column(default=15)

    lines: Mapped[list["ServiceLine"]] = relationship(
        back_populates="product", order_by="ServiceLine.position", lazy="selectin"
    )

    def line(self, code: str) -> "ServiceLine | None":
        """The service line with this code, or None."""
        return next((line for line in self.lines if line.code == code), None)


class ServiceLine(db.Model):
    """One service line of a product: entitlement, SLA clocks and coverage lists."""

    __table_args__ = (UniqueConstraint("product_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    short_name: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    #: units per policy year
    entitlement: Mapped[int] = mapped_column(default=1)
    #: cities served, or null when the line is not city-bound (overseas lines)
    cities: Mapped[list | None] = mapped_column(db.JSON)
    #: True for the overseas lines (country chosen from Product.countries)
    overseas: Mapped[bool] = mapped_column(default=False)
    #: clock definitions: [{"kind": "arrange", "days": 5, "start": "submitted", "stop": "arranged"}, ...]
    clocks: Mapped[list] = mapped_column(db.JSON, default=list)
    #: document kinds the line needs before materials are complete
    required_documents: Mapped[list] = mapped_column(db.JSON, default=list)

    product: Mapped[Product] = relationship(back_populates="lines")
