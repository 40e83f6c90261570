"""Chapter 7, Large Application Structure: the main app itself. Run: flask --app chapters/ch07 run (after the
README's first command, which makes its database: flask --app flasky db upgrade).

New since ch. 6: hello.py becomes a package, flasky/: an application factory, create_app() (so tests and servers
each build the app they need, with its own configuration: what ch05's and ch06's tests had to work around),
configuration classes (flasky/config.py), the views on a blueprint (flasky/main/), mail in flasky/outbox/, tests in
tests/. This step is only that factory, imported: flask finds create_app() here and calls it, exactly as
flask --app flasky run does. Where each idea of chapters 2 to 7 went in the package, and why it differs from the
book: docs/book-map.md.

第 7 章 大型程序的结构：就是主程序本身。运行：flask --app chapters/ch07 run（先运行 README 的第一条命令，它用
flask --app flasky db upgrade 创建数据库）。
新内容：hello.py 变成包 flasky/：程序工厂函数 create_app()（测试和服务器各自用自己的配置创建程序，第 5、6 章的测试
不得不绕过的问题就此解决）、配置类（flasky/config.py）、蓝本上的视图（flasky/main/）、flasky/outbox/ 里的邮件、
tests/ 里的测试。本章只是导入这个工厂函数：flask 在这里找到 create_app() 并调用它，和 flask --app flasky run 完全一样。
第 2–7 章的每个概念在包里的位置，以及和书中有何不同、为什么：docs/book-map.md。
"""

from flasky import create_app

__all__ = ["create_app"]
