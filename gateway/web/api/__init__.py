"""The JSON API under `/api/v1/`: one `APIRouter` per room (made with `api_router`), listed in `ROUTERS`;
FastAPI draws the OpenAPI document (`/openapi.json`) from their response models. The shapes follow the
CLI's `--json` output, so a script can use either."""

from gateway.web.api import channels, files, listings, orders, sources, stock

ROUTERS = (files.router, stock.router, listings.router, channels.router, orders.router, sources.router)
