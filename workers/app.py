"""The dramatiq application: `dramatiq workers.app:rabbitmq` (what `tradeflow worker` runs) imports this."""

from workers.bootstrap import build_worker
from workers.settings import load_settings

rabbitmq = build_worker(load_settings())
