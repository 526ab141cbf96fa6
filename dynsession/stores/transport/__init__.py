"""How DynamoDB item operations reach DynamoDB: one small contract, one implementation per HTTP stack."""

from .base import Transport
from .boto3_thread import Boto3Transport

__all__ = ["Boto3Transport", "Transport"]
