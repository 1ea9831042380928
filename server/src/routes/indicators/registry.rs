//! `/indicators/list` and `/indicators/definition/{name}`: the registry's descriptions.

use super::*;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    #[param(value_type = Option<crate::wire::schema::IndicatorCategoryOrBlank>, inline)]
    pub category: Option<String>,
    #[param(max_length = 64)]
    pub search: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ListResponse {
    pub status: &'static str,
    pub total: usize,
    pub categories: Vec<&'static str>,
    /// The timeframes every indicator, candle and stream route accepts (canonical spellings).
    pub timeframes: Vec<&'static str>,
    /// The registry's descriptions (name, display_name, category, description, parameters,
    /// inputs, outputs, uses_time, memory).
    #[schema(value_type = Vec<Object>)]
    pub indicators: Vec<Description>,
}

/// `GET /indicators/list`: the registry, optionally by category or a search term.
#[utoipa::path(get, path = "/indicators/list", tag = "indicators", params(ListQuery), responses((status = 200, body = ListResponse)))]
pub(super) async fn list(ApiQuery(q): ApiQuery<ListQuery>) -> Result<Json<ListResponse>, ApiError> {
    let category = match q
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(c) => Some(
            Category::ALL
                .into_iter()
                .find(|x| x.as_str().eq_ignore_ascii_case(c))
                .ok_or_else(|| {
                    let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                    ApiError::bad_param(
                        "category",
                        format!(
                            "unknown category {:?}; accepted: {}",
                            c.chars().take(32).collect::<String>(),
                            names.join(", ")
                        ),
                    )
                })?,
        ),
    };
    let search = q
        .search
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 64) {
        return Err(ApiError::bad_param("search", "at most 64 characters"));
    }
    let indicators: Vec<Description> = REGISTRY
        .iter()
        .filter(|d| category.is_none_or(|c| d.category == c))
        .filter(|d| {
            search.as_ref().is_none_or(|s| {
                d.name.to_ascii_lowercase().contains(s)
                    || d.display_name.to_ascii_lowercase().contains(s)
                    || d.description.to_ascii_lowercase().contains(s)
            })
        })
        .map(describe)
        .collect();
    Ok(Json(ListResponse {
        status: "success",
        total: indicators.len(),
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        timeframes: Timeframe::ALL.iter().map(|t| t.as_str()).collect(),
        indicators,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DefinitionResponse {
    pub status: &'static str,
    #[schema(value_type = Object)]
    pub indicator: Description,
}

/// `GET /indicators/definition/{name}` (aliases and ids accepted: `BB`, `RSI_14`).
#[utoipa::path(get, path = "/indicators/definition/{name}", tag = "indicators", params(("name" = String, Path, description = "indicator name, alias or id")), responses((status = 200, body = DefinitionResponse)))]
pub(super) async fn definition_route(
    Path(name): Path<String>,
) -> Result<Json<DefinitionResponse>, ApiError> {
    match IndicatorId::parse(&name) {
        Ok(id) => Ok(Json(DefinitionResponse {
            status: "success",
            indicator: describe(id.def()),
        })),
        Err(e) => Err(ApiError::not_found("unknown_indicator", e.to_string())),
    }
}
