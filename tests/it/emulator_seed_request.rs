//! The seed document's ad-hoc request, sent to the emulator as written there.
//!
//! `REQUEST` is the curl command from the seed (the beta ad-hoc activation page, step 5) copied
//! verbatim, and `RESPONSE` its documented response. The test parses the curl line, substitutes
//! the placeholders with demo-world IDs, sends exactly those headers and that body, and checks
//! the answer has the documented shape.

use serde_json::Value;

use crate::emulator::{Api, CLIENT_ID, DIRECT_MAIL, EMAIL, GOLD, HIGH_VALUE, ORG, SILVER};

/// Verbatim from the seed document (its closing quote is missing there too).
const REQUEST: &str = r#"curl -X POST https://platform.adobe.io/data/core/activation/disflowprovider/adhocrun \
 -H 'Authorization: Bearer {ACCESS_TOKEN}' \
 -H 'Content-Type: application/json' \
 -H 'x-gw-ims-org-id: {ORG_ID}' \
 -H 'x-api-key: {API_KEY}' \
 -d '
{
   "activationInfo":{
      "destinationId1":[
         "segmentId1",
         "segmentId2"
      ],
      "destinationId2":[
         "segmentId2",
         "segmentId3"
      ]
   },
   "exportIds":[
      "exportId1"
   ]
}
"#;

/// The seed document's documented response.
const RESPONSE: &str = r#"
{
   "order":[
      {
         "segment":"db8961e9-d52f-45bc-b3fb-76d0382a6851",
         "order":"ef2dcbd6-36fc-49a3-afed-d7b8e8f724eb",
         "statusURL":"https://platform.adobe.io/data/foundation/flowservice/runs/88d6da63-dc97-460e-b781-fc795a7386d9"
      }
   ]
}
"#;

/// A curl command line: method, URL, headers and body.
struct Curl {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn parse_curl(text: &str) -> Curl {
    let joined = text.replace("\\\n", " ");
    let rest = joined.trim().strip_prefix("curl").unwrap().trim_start();
    let rest = rest.strip_prefix("-X ").unwrap();
    let (method, rest) = rest.split_once(' ').unwrap();
    let rest = rest.trim_start();
    let (url, mut rest) = rest.split_once(' ').unwrap();
    let mut headers = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(h) = rest.strip_prefix("-H '") {
            let (header, after) = h.split_once('\'').unwrap();
            let (name, value) = header.split_once(':').unwrap();
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
            rest = after;
        } else if let Some(d) = rest.strip_prefix("-d '") {
            let body = d.trim_end().trim_end_matches('\'').to_owned();
            return Curl {
                method: method.to_owned(),
                url: url.to_owned(),
                headers,
                body,
            };
        } else {
            panic!("unexpected curl syntax at: {rest}");
        }
    }
}

#[test]
fn the_seed_curl_request_gets_the_documented_response() {
    let api = Api::new();
    let curl = parse_curl(REQUEST);
    assert_eq!(curl.method, "POST");
    let path = curl.url.strip_prefix("https://platform.adobe.io").unwrap();
    assert_eq!(path, "/data/core/activation/disflowprovider/adhocrun");
    assert_eq!(curl.headers.len(), 4, "{:?}", curl.headers);

    // Demo IDs for the placeholders: segment 2 goes to both destinations, so it is Loyalty
    // gold, mapped to both demo dataflows.
    let token = api.token.clone();
    let substitute = |text: &str| {
        text.replace("{ACCESS_TOKEN}", &token)
            .replace("{ORG_ID}", ORG)
            .replace("{API_KEY}", CLIENT_ID)
            .replace("destinationId1", EMAIL)
            .replace("destinationId2", DIRECT_MAIL)
            .replace("segmentId1", SILVER)
            .replace("segmentId2", GOLD)
            .replace("segmentId3", HIGH_VALUE)
            .replace("exportId1", "11044")
    };
    let headers: Vec<(String, String)> = curl
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), substitute(v)))
        .collect();
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = substitute(&curl.body);
    let reply = api
        .raw(&curl.method, path, &header_refs, Some(&body))
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);

    let documented: Value = serde_json::from_str(RESPONSE).unwrap();
    let got = reply.json();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&got), keys(&documented));
    let order = got["order"].as_array().unwrap();
    assert_eq!(
        order.len(),
        4,
        "one element per (destination, segment) pair"
    );
    for (element, (segment, destination)) in order.iter().zip([
        (SILVER, EMAIL),
        (GOLD, EMAIL),
        (GOLD, DIRECT_MAIL),
        (HIGH_VALUE, DIRECT_MAIL),
    ]) {
        assert_eq!(keys(element), keys(&documented["order"][0]));
        assert_eq!(element["segment"], segment);
        assert_eq!(element["order"], destination);
        let url = element["statusURL"].as_str().unwrap();
        let run_id = url
            .strip_prefix(&format!(
                "{}/data/foundation/flowservice/runs/",
                api.emulator.platform_url()
            ))
            .unwrap_or_else(|| panic!("{url}"));
        assert_eq!(run_id.len(), 36);
        let run = api.follow(url);
        assert_eq!(run["id"], run_id);
        assert_eq!(run["flowId"], destination);
    }
}
