"""An Alpaca account's key pair from AWS Secrets Manager, on AWS: the secret's string is the JSON object
{"api_key": "PK…", "secret_key": "…"}. Read once when the account's broker opens and kept in memory only:
never written to DynamoDB, a log or a span. The endpoint and credentials are boto's (the task or instance
role on AWS; AWS_ENDPOINT_URL_SECRETS_MANAGER points it elsewhere, as the tests point it at moto).
"""

from __future__ import annotations

import json

import aioboto3
from botocore.exceptions import BotoCoreError, ClientError


class AccountKeysUnavailable(RuntimeError):
    """The secret could not be read or is not a key pair; the message names the secret, never its value."""


async def keys_from_secret(secret_id: str, *, region: str) -> tuple[str, str]:
    """(api_key, secret_key) held by the secret `secret_id` (its name or ARN)."""
    try:
        async with aioboto3.Session().client("secretsmanager", region_name=region) as client:
            answer = await client.get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as exc:
        raise AccountKeysUnavailable(f"secret {secret_id} could not be read: {type(exc).__name__}") from None
    try:
        pair = json.loads(answer.get("SecretString") or "")
        api_key, secret_key = pair["api_key"], pair["secret_key"]
    except (ValueError, KeyError, TypeError):
        raise AccountKeysUnavailable(f'secret {secret_id} is not {{"api_key": …, "secret_key": …}}') from None
    if not isinstance(api_key, str) or not isinstance(secret_key, str) or not api_key or not secret_key:
        raise AccountKeysUnavailable(f"secret {secret_id} holds an empty or non-text key")
    return api_key, secret_key
