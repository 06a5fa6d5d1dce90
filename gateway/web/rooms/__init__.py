"""The HTML rooms of the web page: one `APIRouter` per room (made with `deps.room_router`), listed in
`ROUTERS` in the order `app.create_app` includes them."""

from gateway.web.rooms import (
    dashboard, files, health, history, integrations, items, listings, login, orders, sources, stock, templates, upload,
)

ROUTERS = (dashboard.router, history.router, files.router, stock.router, items.router, listings.router,
           orders.router, integrations.router, sources.router, upload.router, templates.router, login.router,
           health.router)
