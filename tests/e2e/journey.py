"""What every browser journey does between its steps: log out, and read the page's success message."""

import re


def logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))


def success(page):
    return page.locator(".message-success").first
