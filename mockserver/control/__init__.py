"""Control of a running mock: :class:`MockControl` (``mock_control``) and its ``/__mock__/`` face."""
