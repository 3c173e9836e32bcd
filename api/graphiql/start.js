// Starts GraphiQL on this page: queries and mutations over HTTP (POST /graphql),
// subscriptions over WebSocket (graphql-transport-ws on /graphql/ws). The token typed
// into GraphiQL's Headers tab as {"Authorization": "Bearer <token>"} goes with both:
// as a header over HTTP, in connection_init over WebSocket. A file of its own so the
// page's Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";

  function authorization(headers) {
    if (!headers) return undefined;
    for (var name in headers) {
      if (name.toLowerCase() === "authorization") return headers[name];
    }
    return undefined;
  }

  // The operations of a document, in order: their keyword and name, read at the top level
  // (outside any braces), with comments and strings left out. GraphiQL's own test for a
  // subscription needs the editor's parsed document, which may lag behind the text sent.
  function operations(query) {
    var text = query
      .replace(/"""[\s\S]*?"""/g, '""')
      .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
      .replace(/#[^\n]*/g, " ");
    var found = [];
    var depth = 0;
    var pending = null;
    var token = /[{}]|[_A-Za-z][_0-9A-Za-z]*/g;
    var m;
    while ((m = token.exec(text))) {
      var word = m[0];
      if (word === "{") {
        if (depth === 0) {
          // A bare selection set is a query; a fragment is not an operation.
          if (pending === null) found.push({ type: "query" });
          else if (pending.type !== "fragment") found.push(pending);
          pending = null;
        }
        depth++;
      } else if (word === "}") {
        depth = Math.max(0, depth - 1);
      } else if (depth === 0) {
        if (/^(query|mutation|subscription|fragment)$/.test(word) && pending === null) {
          pending = { type: word };
        } else if (pending !== null && pending.name === undefined && !/\(/.test(word)) {
          pending.name = word;
        }
      }
    }
    return found;
  }

  function isSubscription(query, name) {
    var chosen = operations(query).filter(function (op) {
      return name ? op.name === name : true;
    });
    return chosen.length === 1 && chosen[0].type === "subscription";
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    var auth = authorization(headers);
    if (!isSubscription(params.query || "", params.operationName)) {
      return GraphiQL.createFetcher({ url: "/graphql" })(params, options);
    }
    // A client per subscription: it carries this run's token in connection_init.
    var client = graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      retryAttempts: 0,
      connectionParams: auth ? { authorization: auth } : {},
    });
    return {
      subscribe: function (sink) {
        var stop = client.subscribe(
          { query: params.query, variables: params.variables, operationName: params.operationName },
          {
            next: function (value) { sink.next(value); },
            error: function (error) { sink.error(error); },
            complete: function () { sink.complete(); },
          },
        );
        return {
          unsubscribe: function () {
            stop();
            client.dispose();
          },
        };
      },
    };
  }

  if (typeof window !== "undefined" && document.getElementById("graphiql")) {
    var root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        defaultEditorToolsVisibility: true,
        shouldPersistHeaders: true,
      }),
    );
  }
})();
