"""Order-system adapters: each implements ``bot.shop.store.ShopStore`` for one platform."""
