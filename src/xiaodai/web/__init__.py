"""Server-rendered pages: borrower portal (zh-CN default, English switch). Every asset is served locally."""
