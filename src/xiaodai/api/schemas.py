"""Request and response bodies. Money travels as strings ("1234.56")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


class SignOffer(OfferChoice):
    kfs_sha256: str = Field(description="the SHA-256 of the key-facts statement the borrower was shown")
    lang: str = "zh"


class Repayment(BaseModel):
    amount: str
    on: str | None = None


class Prepayment(BaseModel):
    amount: str | None = None
    mode: str = "shorten-term"
    on: str | None = None
