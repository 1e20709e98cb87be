"""One router per noun; each route parses its input, calls one service and shapes the answer."""
