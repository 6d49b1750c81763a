"""Request and response bodies. Money travels as strings ("1234.56")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

BOOKING_DATE_REFUSED = (
    "on: a payment is booked on the platform's business date; a borrower cannot choose it "
    "(back-dating is a staff operation: approvals, operation backdated_repayment)"
)


class SignUp(BaseModel):
    email: str
    name: str
    password: str = Field(min_length=10)
    lang: str = "zh"


class Login(BaseModel):
    email: str
    password: str


class TokenRead(BaseModel):
    token: str
    user_id: int


class ApplicationCreate(BaseModel):
    applicant: dict[str, Any] = Field(
        description="what the applicant states: the feature catalogue's `application` features (age, "
        "monthly_income, monthly_debt_payments, employment_type, employment_tenure_years, housing, "
        "dependants, purpose); platform and bureau values are looked up and refused here"
    )
    features: dict[str, Any] = Field(
        default_factory=dict,
        description="model inputs the catalogue mapping does not compute (none for the demo model)",
    )
    request: dict[str, Any] = Field(default_factory=dict, description='{"amount": "10000", "term": 12}')
    consent_credit_check: bool = Field(description="separate consent to the credit check")


class OfferChoice(BaseModel):
    amount: str | None = None
    term: int | None = None
    method: str | None = None
    product: str | None = Field(default=None, description="standard (default) or everyday (with fees)")


class SignOffer(OfferChoice):
    kfs_sha256: str = Field(description="the SHA-256 of the key-facts statement the borrower was shown")
    lang: str = "zh"


class _BookedToday(BaseModel):
    """A borrower's payment: booked on the business date, so a body naming a date (``on``) is refused
    (422) rather than silently ignored."""

    @model_validator(mode="before")
    @classmethod
    def _no_booking_date(cls, data: Any) -> Any:
        if isinstance(data, dict) and "on" in data:
            raise ValueError(BOOKING_DATE_REFUSED)
        return data


class Repayment(_BookedToday):
    amount: str = Field(max_length=40, description='CNY as a string, e.g. "1234.56"')


class Prepayment(_BookedToday):
    amount: str | None = Field(
        None, max_length=40, description="CNY as a string; omitted (null): repay everything outstanding"
    )
    mode: str = "shorten-term"


class DrawChoice(BaseModel):
    amount: str = Field(max_length=40, description='CNY as a string, e.g. "3000.00"')
    plan: str = Field("instalment", description="instalment (term 3-24 months) or daily (随借随还)")
    term: int | None = Field(None, description="months, for the instalment plan")


class DrawSign(DrawChoice):
    kfs_sha256: str = Field(description="the SHA-256 of the drawdown's key-facts statement as shown")
    lang: str = "zh"


class LineGrant(BaseModel):
    borrower_id: int
    application_id: str = Field(max_length=100, description="the borrower's approved application")


class LineStateChange(BaseModel):
    reason: str = Field(max_length=40, description="reason code, UPPER_SNAKE_CASE: told to the borrower")


class LineRedecision(BaseModel):
    application_id: str = Field(max_length=100, description="the borrower's new application (decided)")
