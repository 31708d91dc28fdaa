"""The content folder: every brand-edited file, one mechanism to check, load and reload it.

::

    files.py     find the files (recursively), read and YAML-load each once, dispatch on kind:
    kind.py      the ContentKind protocol; Document (a loaded file), Built, Claim
    kinds.py     the table of kinds: menu (menus.py), keywords (keywords.py)
    check.py     the checks across the folder (claims: ids per kind, service codes); check_files
    reloader.py  the first load and every reload, per changed file, off the event loop
    live.py      the file watcher and SIGHUP in ``serve`` (``POST /admin/reload`` is http/admin)
"""
