"""Reading model text: code blocks, tool drafts and the AST checks on them."""
