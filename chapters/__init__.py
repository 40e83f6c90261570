"""The book's progression, chapter by chapter, each step a small runnable htmx app: flask --app chapters/ch02 run.

按章节可运行的小程序，每一步是书中那一章的 htmx 版：flask --app chapters/ch02 run。说明见 chapters/README.md。
"""
