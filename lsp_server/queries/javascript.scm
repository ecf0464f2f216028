; Regions for JavaScript (typescript.scm inherits this file).

[
  (function_declaration)
  (generator_function_declaration)
  (method_definition)
] @function
(function_declaration body: (statement_block) @function.body)
(generator_function_declaration body: (statement_block) @function.body)
(method_definition body: (statement_block) @function.body)

; Named arrow functions and function expressions: `const f = (x) => { ... }`. One pattern
; each: tree-sitter 0.25/0.26 matches an alternation nested so under any declarator, and made
; every `let total = 0;` a function.
(lexical_declaration (variable_declarator value: (arrow_function))) @function
(lexical_declaration (variable_declarator value: (function_expression))) @function
(variable_declaration (variable_declarator value: (arrow_function))) @function
(variable_declaration (variable_declarator value: (function_expression))) @function
(variable_declarator
  value: [
    (arrow_function body: (statement_block) @function.body)
    (function_expression body: (statement_block) @function.body)
  ])

(class_declaration) @class
(class_declaration body: (class_body) @class.body)

; A doc comment is the run of comments right before a definition.
((comment)+ @docstring
  .
  [
    (function_declaration)
    (generator_function_declaration)
    (method_definition)
    (class_declaration)
    (lexical_declaration)
    (variable_declaration)
    (export_statement)
  ])

[
  (expression_statement)
  (lexical_declaration)
  (variable_declaration)
  (return_statement)
  (throw_statement)
  (break_statement)
  (continue_statement)
  (if_statement)
  (for_statement)
  (for_in_statement)
  (while_statement)
  (do_statement)
  (try_statement)
  (switch_statement)
  (import_statement)
] @statement

(statement_block) @block

; Any comment (the fix never picks a line that holds only prose).
(comment) @comment
