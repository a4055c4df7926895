"""PIX at the counter: BR Code (static and dynamic), the API Pix client and the charge service."""
