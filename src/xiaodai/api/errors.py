"""Domain errors → HTTP, mapped once. Every error body is {"error": code, "message": text}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from xiaodai.accounts.service import AccountError
from xiaodai.complaints.service import ComplaintError
from xiaodai.journey.service import JourneyError
from xiaodai.money.money import MoneyError
from xiaodai.pricing.quote import CapExceededError
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import IllegalTransitionError
from xiaodai.underwriting.decision import ApplicationError
from xiaodai.underwriting.service import RegistryError

MAPPED: tuple[type[Exception], ...] = (
    AccountError,
    JourneyError,
    ServicingError,
    RegistryError,
    ComplaintError,
)


def _body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            _body("invalid_request", f"{where}: {first['msg']}" if where else str(first["msg"])),
            status_code=422,
        )

    for kind in MAPPED:

        @app.exception_handler(kind)
        async def domain(_: Request, exc: Exception) -> JSONResponse:
            status = int(getattr(exc, "status", 400))
            return JSONResponse(_body(type(exc).__name__, str(exc)), status_code=status)

    @app.exception_handler(IllegalTransitionError)
    async def illegal(_: Request, exc: IllegalTransitionError) -> JSONResponse:
        return JSONResponse(_body("IllegalTransition", str(exc)), status_code=409)

    @app.exception_handler(CapExceededError)
    async def cap(_: Request, exc: CapExceededError) -> JSONResponse:
        return JSONResponse({**_body("CapExceeded", str(exc)), "cap": exc.verdict.to_json()}, status_code=422)

    @app.exception_handler(ApplicationError)
    async def application(_: Request, exc: ApplicationError) -> JSONResponse:
        return JSONResponse(_body("InvalidApplication", str(exc)), status_code=422)

    @app.exception_handler(MoneyError)
    async def money(_: Request, exc: MoneyError) -> JSONResponse:
        return JSONResponse(_body("InvalidAmount", str(exc)), status_code=422)
