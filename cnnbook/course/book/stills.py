"""A widget as a still picture of its first state, for a page that runs no kernel and loads no script.

An executed notebook (nbclient with ``store_widget_state=True``) keeps every widget model's state in its
metadata; an output cell holds only a *view* of one model. :func:`freeze_widgets` replaces each view by
HTML drawn from that state (the explorer's picture, its text, each control's name and value) under a note
that the widget works when the notebook runs in JupyterLab, and drops the state, so the page needs nothing
but HTML.
"""
from __future__ import annotations

import base64
import html

from cnnbook.course.book.figures import alt_text, headings, still_alt

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"

NOTES = {
    "en": "An interactive widget, shown here as its first state: open this notebook in JupyterLab to use it.",
    "ko": "대화형 위젯의 첫 상태를 그림으로 보여 줍니다. 직접 움직여 보려면 이 노트북을 JupyterLab에서 여세요.",
}

_CONTROLS = ("Slider", "Text", "Dropdown", "Checkbox", "ToggleButtons", "RadioButtons", "Select", "BoundedInt",
             "BoundedFloat", "IntText", "FloatText", "Play", "Combobox")


def _models(nb) -> dict:
    return nb.metadata.get("widgets", {}).get(STATE, {}).get("state", {})


def _ref(value) -> str | None:
    return value[len("IPY_MODEL_"):] if isinstance(value, str) and value.startswith("IPY_MODEL_") else None


def _image(model, alt: str) -> str:
    state = model.get("state", {})
    data = next((b.get("data") for b in model.get("buffers", []) if b.get("path") == ["value"]), None)
    if data is None:
        value = state.get("value", "")
        data = value if isinstance(value, str) else base64.b64encode(bytes(value)).decode("ascii")
    fmt = state.get("format", "png")
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    width = state.get("width") or ""
    size = f' width="{html.escape(str(width))}"' if width else ""
    return f'<img src="data:{mime};base64,{data}"{size} alt="{html.escape(alt)}">'


def _outputs(outputs, heading: str, lang: str) -> str:
    parts = []
    for out in outputs:
        data = out.get("data", {})
        if "image/png" in data:
            meta = (out.get("metadata", {}).get("image/png") or {}).get("cnnbook")
            alt = html.escape(alt_text(meta, heading, lang))
            parts.append(f'<img src="data:image/png;base64,{"".join(data["image/png"]).strip()}" alt="{alt}">')
        elif "text/html" in data:
            parts.append("".join(data["text/html"]))
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(''.join(data['text/plain']))}</pre>")
        elif out.get("output_type") == "stream":
            parts.append(f"<pre>{html.escape(''.join(out.get('text', '')))}</pre>")
    return "".join(parts)


def render(model_id: str, models: dict, depth: int = 0, heading: str = "", lang: str = "en") -> str:
    """HTML for one widget model and its children, as they stood when the notebook ran; pictures are described
    in ``lang`` by the ``heading`` of the section the widget sits in."""
    model = models.get(model_id)
    if model is None or depth > 20:
        return ""
    name, state = model.get("model_name", ""), model.get("state", {})
    description = html.escape(str(state.get("description", "") or ""))
    children = [_ref(c) for c in state.get("children", [])]
    if children and any(children):
        inner = "".join(render(c, models, depth + 1, heading, lang) for c in children if c)
        row = " cnnbook-still-row" if name.startswith("HBox") or name.startswith("GridBox") else ""
        return f'<div class="cnnbook-still-box{row}">{inner}</div>'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{state.get('value', '')}</div>"
    if name == "LabelModel":
        return f"<div>{html.escape(str(state.get('value', '')))}</div>"
    if name == "ImageModel":
        return f"<div>{_image(model, still_alt(heading, lang))}</div>"
    if name == "OutputModel":
        return f"<div>{_outputs(state.get('outputs', []), heading, lang)}</div>"
    if name == "ButtonModel":
        return f'<div class="cnnbook-still-control">[{description}]</div>'
    if any(kind in name for kind in _CONTROLS):
        value = state.get("value")
        labels = state.get("_options_labels")
        if labels is not None and isinstance(state.get("index"), int) and 0 <= state["index"] < len(labels):
            value = labels[state["index"]]
        shown = html.escape(str(value)).replace("\n", "<br>")
        return f'<div class="cnnbook-still-control">{description}: <b>{shown}</b></div>'
    return ""


def freeze_widgets(nb, lang: str = "en") -> int:
    """Replace every widget view in ``nb`` (changed in place) by its still picture; return how many."""
    models = _models(nb)
    frozen = 0
    for cell, heading in zip(nb.cells, headings(nb)):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            view = data.get(VIEW)
            if view is None:
                continue
            body = render(view.get("model_id", ""), models, heading=heading, lang=lang)
            note = html.escape(NOTES.get(lang, NOTES["en"]))
            out["data"] = {"text/html": f'<div class="cnnbook-widget-still"><p class="cnnbook-still-note">'
                                        f"{note}</p>{body}</div>"}
            frozen += 1
    nb.metadata.pop("widgets", None)
    return frozen
