"""What the browser tests share: signing in, and reading the clock picture as the browser lays it out."""

from __future__ import annotations


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.locator("#dsar-dashboard").wait_for()


def label_boxes(page) -> list[dict]:
    """The clock picture's marker labels as the browser lays them out (user units of the view box)."""
    return page.evaluate(
        """() => {
            const svg = document.querySelector('#dsar-clock-svg');
            const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
            return [...svg.querySelectorAll('text.dsar-label')].map(t => {
                const b = t.getBBox();
                return {text: t.textContent, x: b.x, y: b.y, right: b.x + b.width, bottom: b.y + b.height,
                        width, height};
            });
        }"""
    )


def assert_labels_readable(page) -> None:
    """Inside the view box, and no two labels on each other — measured by the browser, not estimated."""
    boxes = label_boxes(page)
    assert boxes
    for box in boxes:
        assert box["x"] >= 0 and box["right"] <= box["width"], box
        assert box["y"] >= 0 and box["bottom"] <= box["height"], box
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["right"] <= b["x"] or b["right"] <= a["x"] or a["bottom"] <= b["y"] or b["bottom"] <= a["y"]
            )
            assert apart, f"labels overlap: {a['text']!r} and {b['text']!r}"
