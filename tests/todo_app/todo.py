"""A tiny Flask + htmx to-do list, the second app pytest-htmx is tested on (tests/test_pytest_htmx.py copies it in).

Plain Flask, no Flasky: the list, add, inline edit, delete; fragments for htmx requests (HX-Request, not boosted),
the count swapped out of band, and an event stream of the count. create_app(bugs=...) builds it with one of BUGS,
each a mistake the plugin must catch.
"""

from flask import Flask, abort, redirect, render_template_string, request

BUGS = {"no-vary", "get-only-delete", "misspelt-attribute", "edit-root-id", "wrong-event"}

TEMPLATE = """
{%- macro item(todo) -%}
<li id="todo-{{ todo.id }}"><span>{{ todo.title }}</span>
  <button hx-get="/todos/{{ todo.id }}/edit" hx-target="#todo-{{ todo.id }}" hx-swap="outerHTML">Edit</button>
  <button hx-delete="/todos/{{ todo.id }}" hx-target="#todo-{{ todo.id }}" hx-swap="delete"
          hx-confirm="Delete {{ todo.title }}?">Delete</button>
</li>
{%- endmacro -%}
{%- macro editor(todo) -%}
<li {% if "edit-root-id" not in bugs %}id="todo-{{ todo.id }}"{% endif %}>
  <form hx-put="/todos/{{ todo.id }}" hx-target="closest li" hx-swap="outerHTML">
    <input name="title" value="{{ todo.title }}"><button>Save</button>
  </form>
</li>
{%- endmacro -%}
{%- macro count(todos, oob=false) -%}
<span id="todo-count"{% if oob %} hx-swap-oob="true"{% endif %}>{{ todos|length }}</span>
{%- endmacro -%}
{%- macro form(error=None) -%}
<form id="todo-form" action="/todos" method="post" hx-post="/todos" hx-target="#todo-list"
      {{ "hx-swapp" if "misspelt-attribute" in bugs else "hx-swap" }}="beforeend" hx-vals='{"source": "htmx"}'>
  <input name="title" aria-label="Title">{% if error %}<p class="error">{{ error }}</p>{% endif %}
  <button>Add</button>
</form>
{%- endmacro -%}
{%- macro todo_list(todos) -%}
<ul id="todo-list">{% for todo in todos %}{{ item(todo) }}{% endfor %}</ul>
{%- endmacro -%}
{%- if part == "page" -%}
<!doctype html>
<html lang="en"><head><title>To-do</title></head>
<body hx-boost="true">
  <h1>To-do ({{ count(todos) }})</h1>
  <div hx-ext="sse" sse-connect="/events"><span sse-swap="count">{{ todos|length }}</span></div>
  {{ form() }}
  {{ todo_list(todos) }}
</body></html>
{%- elif part == "list" %}{{ todo_list(todos) }}
{%- elif part == "added" %}{{ item(todo) }}{{ count(todos, oob=true) }}
{%- elif part == "item" %}{{ item(todo) }}
{%- elif part == "editor" %}{{ editor(todo) }}
{%- elif part == "form" %}{{ form(error) }}
{%- elif part == "count" %}{{ count(todos, oob=true) }}
{%- endif -%}
"""


def create_app(bugs=()):
    """Build the to-do app with an empty list, with the given BUGS switched on."""
    unknown = set(bugs) - BUGS
    if unknown:
        raise ValueError(f"no such bug: {', '.join(sorted(unknown))}")
    app = Flask(__name__)
    todos = app.extensions["todos"] = {}

    def render(part, status=200, **context):
        return render_template_string(TEMPLATE, part=part, bugs=bugs, todos=list(todos.values()), **context), status

    def swapping():
        """Tell whether htmx asked for a fragment: an htmx request that is not a boosted navigation."""
        return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"

    def find(todo_id):
        return todos.get(todo_id) or abort(404)

    @app.get("/todos")
    def index():
        return render("list" if swapping() else "page")

    @app.post("/todos")
    def add():
        title = request.form.get("title", "").strip()
        if not title:
            return render("form", 422, error="A to-do needs a title.") if swapping() else ("A title, please.", 422)
        todo = {"id": max(todos, default=0) + 1, "title": title}
        todos[todo["id"]] = todo
        if not swapping():
            return redirect("/todos", 303)
        body, status = render("added", todo=todo)
        return body, status, {"HX-Trigger": '{"todo-added": {"id": %d}}' % todo["id"]}

    @app.get("/todos/<int:todo_id>/edit")
    def edit(todo_id):
        return render("editor", todo=find(todo_id))

    @app.put("/todos/<int:todo_id>")
    def save(todo_id):
        todo = find(todo_id)
        todo["title"] = request.form.get("title", "").strip() or todo["title"]
        return render("item", todo=todo)

    @app.route("/todos/<int:todo_id>", methods=["GET"] if "get-only-delete" in bugs else ["DELETE"],
               endpoint="delete")
    def delete(todo_id):
        del todos[find(todo_id)["id"]]
        return render("count")

    @app.get("/events")
    def events():
        """Stream the count: a retry hint, a heartbeat, then one event (a real stream would wait for changes)."""
        name = "counted" if "wrong-event" in bugs else "count"
        last = request.headers.get("Last-Event-ID", "0")

        def stream():
            yield "retry: 3000\n\n"
            yield ": ping\n\n"
            yield f"id: {int(last) + 1}\nevent: {name}\ndata: {len(todos)}\n\n"

        return app.response_class(stream(), mimetype="text/event-stream")

    @app.after_request
    def vary(response):
        if "no-vary" not in bugs:
            response.vary.add("HX-Request")
            response.vary.add("HX-Boosted")
        return response

    return app
