"""The robot agent (``podium robot``): protocol client, package cache, process runner."""
