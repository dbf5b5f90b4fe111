"""Customer and address shapes shared by the customer and order services."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator


class Address(BaseModel):
    """A postal address as written on an order or kept on a customer."""

    model_config = ConfigDict(str_strip_whitespace=True, from_attributes=True)

    first_name: str = Field(default="", max_length=128)
    last_name: str = Field(default="", max_length=128)
    company: str = Field(default="", max_length=255)
    address1: str = Field(default="", max_length=255)
    address2: str = Field(default="", max_length=255)
    city: str = Field(default="", max_length=128)
    province: str = Field(default="", max_length=128)
    postal_code: str = Field(default="", max_length=32)
    country_code: str = Field(default="", max_length=2)
    phone: str = Field(default="", max_length=64)

    @field_validator("country_code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def missing_for_shipping(self) -> list[str]:
        """The fields a parcel cannot do without."""
        required = {
            "name": f"{self.first_name}{self.last_name}{self.company}",
            "address1": self.address1,
            "city": self.city,
            "country_code": self.country_code,
        }
        return [name for name, value in required.items() if not value]

    def key(self) -> tuple[str, ...]:
        return tuple(str(value).casefold() for value in self.model_dump().values())


class CustomerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: EmailStr | None = None
    first_name: str = Field(default="", max_length=128)
    last_name: str = Field(default="", max_length=128)
    company: str = Field(default="", max_length=255)
    phone: str = Field(default="", max_length=64)
    note: str = ""
    accepts_marketing: bool = False
    addresses: list[Address] = Field(default_factory=list)

    @field_validator("email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None
