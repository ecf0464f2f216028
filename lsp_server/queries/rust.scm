; Regions for Rust.

(function_item) @function
(function_item body: (block) @function.body)

[
  (struct_item)
  (enum_item)
  (union_item)
  (trait_item)
  (impl_item)
] @class
(struct_item body: (field_declaration_list) @class.body)
(enum_item body: (enum_variant_list) @class.body)
(union_item body: (field_declaration_list) @class.body)
(trait_item body: (declaration_list) @class.body)
(impl_item body: (declaration_list) @class.body)

; A doc comment is the run of comments right before an item, above its attributes.
([(line_comment) (block_comment)]+ @docstring
  .
  (attribute_item)*
  .
  [
    (function_item)
    (struct_item)
    (enum_item)
    (union_item)
    (trait_item)
    (impl_item)
    (mod_item)
    (const_item)
    (static_item)
    (type_item)
  ])

(block
  [
    (expression_statement)
    (let_declaration)
    (_expression)
  ] @statement)

(block) @block

; Any comment (the fix never picks a line that holds only prose).
[(line_comment) (block_comment)] @comment
